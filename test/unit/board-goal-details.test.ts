import { detailsDialog, detailsScript } from '../../src/board/pages/goal-details';

describe('the task details dialog', () => {
  it('has Cancel and Retry buttons only for a caller who may change things', () => {
    expect(detailsDialog(true)).toContain('<button class="d-cancel"');
    expect(detailsDialog(true)).toContain('<button class="d-retry"');
    expect(detailsDialog(false)).not.toContain('d-cancel');
    expect(detailsDialog(false)).not.toContain('d-retry');
  });

  it('has a place for the data, result, error, attempts and log lines', () => {
    const html = detailsDialog(false);
    for (const part of ['d-data', 'd-result', 'd-error', 'd-attempts', 'd-logs']) {
      expect(html).toContain(`class="${part}"`);
    }
  });

  it('tells its script whether to wire the buttons', () => {
    expect(detailsScript(true)).toContain('const detailsCanAct = true;');
    expect(detailsScript(false)).toContain('const detailsCanAct = false;');
  });
});
