/** The organisation component's sentences that more than one module says (accounts use them too). */
export const SCHOOL_NOT_FOUND = '所属学校不存在';
export const COUNTY_NOT_FOUND = '所属县区不存在';
