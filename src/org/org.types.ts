export interface County {
  id: string;
  code: string;
  name: string;
}

export interface School {
  id: string;
  name: string;
  countyId: string | null;
  countyName: string | null;
  level: string | null;
}

/** The label for schools that belong to no county and answer to the city directly. */
export const CITY_DIRECT_LABEL = '市直';
