/** The campaign component's sentences that more than one module says (review uses them too). */
export const PERIOD_NOT_FOUND = '报送期不存在。';
