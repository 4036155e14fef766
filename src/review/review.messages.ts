/** County review's sentences for the people it tells (消息, email, group robots). */
export const RETURNED_MESSAGE = (title: string, reason: string) => ({ title: `《${title}》被退回，请修改后重新提交`, body: `退回原因：${reason}` });
export const FORWARDED_MESSAGE = (title: string) => ({ title: `《${title}》已报送市教育局`, body: '县区教育局已将作品报送市教育局，等待市级评审。' });
