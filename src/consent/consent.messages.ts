import { AppError } from '../platform/errors';
import type { ConsentScope } from './consent.schema';

/** The consent component's Chinese sentences and labels. */
export const SCOPE_LABELS: Record<ConsentScope, string> = {
  broadcast: '电视播出',
  newmedia: '微信公众号等新媒体',
  public: '公示页面（仅作品名称和学校）',
};
export const SCOPE_SHORT: Record<ConsentScope, string> = { broadcast: '电视', newmedia: '新媒体', public: '公示' };

export const CONSENT_ACTION_LABELS: Record<string, string> = {
  'consent.record': '登记授权书',
  'consent.withdraw': '撤回授权',
  'consent.scan_read': '查看授权书扫描件',
  'consent.settings': '修改授权书要求',
  'entry.broadcast_revoked': '因撤回授权取消选送',
  'school.data_export': '导出学校数据',
  'school.erase_personal_data': '删除个人信息',
};

/** A consent audit row's from/to (`broadcast,public`, `none`, `withdrawn`) in Chinese: 电视、公示. */
export function consentStateLabel(code: string | null): string | null {
  if (!code) return null;
  if (code === 'none') return '无公开范围';
  if (code === 'withdrawn') return '全部撤回';
  return code
    .split(',')
    .map((s) => SCOPE_SHORT[s as ConsentScope] ?? s)
    .join('、');
}

export const NO_CONSENT = '未登记授权书';
export const WITHDRAWN = '授权已撤回';

/** 409 consent_required with a sentence a teacher or reviewer can act on. */
export const consentRequired = (detail: string) => new AppError(409, 'consent_required', '缺少监护人授权', detail);

export const CONSENT_MISSING = '该作品还没有登记监护人授权书。请学校在作品页面“监护人授权”一栏登记后再报送。';
export const CONSENT_SCAN_MISSING = '市教育局要求上传签字的授权书扫描件。请学校在作品页面上传扫描件后再报送。';
export const CONSENT_WITHDRAWN = '该作品的监护人授权已全部撤回，不能报送。如家长重新同意，请学校重新登记授权书。';
export const scopeMissing = (scope: ConsentScope) => `该作品没有“${SCOPE_LABELS[scope]}”的监护人授权，不能选用。请学校补充登记授权后再选。`;

export const SCAN_TOO_LARGE = '授权书扫描件不能超过 10 MB，请降低扫描分辨率后再上传。';
export const SCAN_BAD_TYPE = '授权书扫描件只能是 PDF、JPG 或 PNG 文件（按文件内容识别）。';
export const SCAN_EMPTY = '上传的授权书文件是空的（0 字节），请重新选择。';
export const NO_SCAN = '该作品没有上传授权书扫描件。';
export const NOT_ERASABLE = '学校不存在。';
