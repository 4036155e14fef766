/** The organisation component's sentences that more than one module says (accounts use them too). */
export const SCHOOL_NOT_FOUND = '所属学校不存在';
export const COUNTY_NOT_FOUND = '所属县区不存在';

/** The school import's template: its header row and two example rows (the first column names are what the import reads). */
export const IMPORT_TEMPLATE_CSV = '\ufeff学校名称,所属县区,学段\r\n离石区示例小学,离石区,小学\r\n吕梁市示例中学,市直,高中\r\n';
