import { rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import type { Campaign } from '../campaign/campaign.service';
import type { EntryView } from '../entries/entry.types';
import { A4_PORTRAIT, createCjkPdf, drawCentered, MM, wrapText } from '../platform/documents/pdf';
import { SCOPE_LABELS } from './consent.messages';
import { SCOPES } from './consent.contract';

/**
 * The template 授权书 (one A4 page), prefilled with the entry: code, title, song, school, county.
 * Guardians tick the scopes they allow and sign one line per pupil; the school keeps the original
 * and uploads a scan (or declares it holds them, as the city's setting allows).
 */
export async function consentTemplatePdf(entry: EntryView, campaign: Campaign): Promise<Uint8Array> {
  const title = '参演学生监护人授权书';
  const facts: Array<[string, string]> = [
    ['作品编号', entry.code],
    ['作品名称', entry.title],
    ['演唱歌曲', entry.song.title],
    ['学校', entry.school.name],
    ['县区', entry.county?.name ?? '市直'],
  ];
  const intro =
    `本人是上述作品中参演学生的监护人。本人知悉：该作品视频（含学生的肖像和声音）由学校报送“${campaign.title}”活动，供县区和市教育局审核、评委评审。` +
    '获奖作品可能在下列渠道展示。本人同意在下面勾选的范围内使用该作品，未勾选的渠道不得使用：';
  const notes = [
    '1. 根据《中华人民共和国个人信息保护法》，不满十四周岁未成年人的个人信息属于敏感个人信息，处理时须取得监护人同意。',
    '2. 公示页面只显示作品名称和学校，不显示学生姓名。',
    '3. 监护人可随时通过学校撤回全部或部分授权，撤回后相应渠道将停止使用该作品。',
    '4. 本授权书原件由学校保存；学校可上传签字后的扫描件，或按市教育局要求作出书面声明。',
  ];
  const columns = ['序号', '学生姓名', '监护人姓名', '与学生关系', '监护人签字', '日期'];
  const scopeLines = SCOPES.map((s) => `□ ${SCOPE_LABELS[s]}`);
  const footer = ['学校（盖章）：', '经办教师：', '年    月    日'];
  const all = [title, campaign.title, ...facts.flat(), intro, ...notes, ...columns, ...scopeLines, ...footer, '：', '0123456789'];
  const pdf = await createCjkPdf(all, { title: `${title} ${entry.code}` });
  const page = pdf.doc.addPage(A4_PORTRAIT);
  const left = 20 * MM;
  const width = page.getWidth() - 40 * MM;
  let y = page.getHeight() - 22 * MM;
  drawCentered(page, campaign.title, { font: pdf.regular, size: 11, y });
  y -= 26;
  drawCentered(page, title, { font: pdf.bold, size: 20, y });
  y -= 30;
  for (const [label, value] of facts) {
    page.drawText(`${label}：`, { x: left, y, size: 11, font: pdf.bold });
    drawCharByChar(page, value, { x: left + 70, y, size: 11, font: pdf.regular });
    y -= 18;
  }
  y -= 6;
  const body = { font: pdf.regular, size: 10.5 };
  for (const line of wrapText(intro, body, width)) {
    page.drawText(line, { x: left, y, ...body });
    y -= 16;
  }
  y -= 4;
  for (const line of scopeLines) {
    page.drawText(line, { x: left + 18, y, size: 11, font: pdf.bold });
    y -= 18;
  }
  y -= 6;
  // The signature table: 12 pupils per sheet (a school prints as many sheets as it needs).
  const widths = [0.08, 0.18, 0.18, 0.16, 0.22, 0.18].map((w) => w * width);
  const rowH = 22;
  const rows = 13;
  const grey = rgb(0.3, 0.3, 0.3);
  for (let r = 0; r <= rows; r++)
    page.drawLine({ start: { x: left, y: y - r * rowH }, end: { x: left + width, y: y - r * rowH }, thickness: 0.6, color: grey });
  let x = left;
  for (let c = 0; c <= columns.length; c++) {
    page.drawLine({ start: { x, y }, end: { x, y: y - rows * rowH }, thickness: 0.6, color: grey });
    if (c < columns.length) {
      const w = pdf.bold.widthOfTextAtSize(columns[c], 10);
      page.drawText(columns[c], { x: x + (widths[c] - w) / 2, y: y - 15, size: 10, font: pdf.bold });
      x += widths[c];
    }
  }
  for (let r = 1; r < rows; r++) {
    const n = String(r);
    page.drawText(n, { x: left + (widths[0] - pdf.regular.widthOfTextAtSize(n, 10)) / 2, y: y - r * rowH - 15, size: 10, font: pdf.regular });
  }
  y -= rows * rowH + 18;
  const small = { font: pdf.regular, size: 9 };
  for (const note of notes)
    for (const line of wrapText(note, small, width)) {
      page.drawText(line, { x: left, y, ...small });
      y -= 13;
    }
  y -= 14;
  page.drawText(footer[0], { x: left, y, size: 11, font: pdf.regular });
  page.drawText(footer[1], { x: left + width / 2, y, size: 11, font: pdf.regular });
  y -= 22;
  page.drawText(footer[2], { x: left + width - 110, y, size: 11, font: pdf.regular });
  return pdf.doc.save();
}

/**
 * Draws text one character at a time. fontkit's layout substitutes contextual glyph variants inside
 * a run such as 「CX-PJ6H2」 (the digit after a letter), and those variants carry no Unicode mapping:
 * a reader shows them but copies and searches lose the digits. Single characters keep their mapping.
 */
function drawCharByChar(page: PDFPage, text: string, style: { x: number; y: number; size: number; font: PDFFont }): void {
  let x = style.x;
  for (const ch of text) {
    page.drawText(ch, { x, y: style.y, size: style.size, font: style.font });
    x += style.font.widthOfTextAtSize(ch, style.size);
  }
}
