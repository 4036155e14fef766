import { A4_LANDSCAPE, createCjkPdf, drawCentered, wrapText } from '../../../src/platform/documents/pdf';
import { pdfInfo, pdfPageGrey, pdfText } from '../../support/pdf';

describe('Chinese PDFs', () => {
  it('when a document prints Chinese, then a reader extracts the same characters and the glyphs are inked (no empty boxes)', async () => {
    const line = '吕梁市离石区第一中学《歌唱祖国》一等奖';
    const pdf = await createCjkPdf([line], { title: '测试' });
    const page = pdf.doc.addPage(A4_LANDSCAPE);
    drawCentered(page, line, { font: pdf.bold, size: 32, y: 300 });
    const bytes = await pdf.doc.save();

    expect(await pdfText(bytes)).toContain(line);
    const info = await pdfInfo(bytes);
    expect(info.pages).toBe(1);
    expect(Math.round(info.widthPt)).toBe(842);
    expect(Math.round(info.heightPt)).toBe(595);
    expect(bytes.length).toBeLessThan(60_000);

    const { pixels } = await pdfPageGrey(bytes);
    const inked = pixels.filter((v) => v < 128).length;
    // 19 CJK glyphs at 32 pt fill far more than the outline of a "tofu" box would.
    expect(inked).toBeGreaterThan(400);
  });

  it('when a line is wider than the box, then it wraps between Chinese characters and keeps a code whole', async () => {
    const pdf = await createCjkPdf(['请学校在公示期内提交书面意见，编号 LS-2026-0001 用于查询']);
    const lines = wrapText('请学校在公示期内提交书面意见，编号 LS-2026-0001 用于查询', { font: pdf.regular, size: 12 }, 120);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.some((l) => l.includes('LS-2026-0001'))).toBe(true);
    for (const l of lines) expect(pdf.regular.widthOfTextAtSize(l, 12)).toBeLessThanOrEqual(120);
  });
});
