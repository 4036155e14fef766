import { clampRange, parseRangeHeader } from '../../../../src/platform/storage/byte-range';

describe('parseRangeHeader', () => {
  it.each([
    ['bytes=0-9', { kind: 'range', start: 0, end: 9 }],
    ['bytes=90-', { kind: 'range', start: 90, end: 99 }],
    ['bytes=-10', { kind: 'range', start: 90, end: 99 }],
    ['bytes=-500', { kind: 'range', start: 0, end: 99 }],
    ['bytes=50-5000', { kind: 'range', start: 50, end: 99 }],
    ['BYTES=1-1', { kind: 'range', start: 1, end: 1 }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=100-200', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=0-1,3-4', { kind: 'whole' }],
    ['bytes=9-1', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
    ['bytes=a-b', { kind: 'whole' }],
    ['items=0-1', { kind: 'whole' }],
    // Positions too long for a safe integer are past the end of anything (RFC 9110 §14.1.2):
    ['bytes=99999999999999999999-', { kind: 'unsatisfiable' }],
    ['bytes=99999999999999999999-99999999999999999999', { kind: 'unsatisfiable' }],
    ['bytes=0-99999999999999999999', { kind: 'range', start: 0, end: 99 }],
    ['bytes=95-18446744073709551616', { kind: 'range', start: 95, end: 99 }],
    ['bytes=-99999999999999999999', { kind: 'range', start: 0, end: 99 }],
  ])('when the header is %j for 100 bytes, then %j', (header, expected) => {
    expect(parseRangeHeader(header, 100)).toEqual(expected);
  });

  it('when there is no header, then the whole object', () => {
    expect(parseRangeHeader(undefined, 100)).toEqual({ kind: 'whole' });
  });

  it('when the object is empty, then any range is unsatisfiable', () => {
    expect(parseRangeHeader('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRangeHeader('bytes=-5', 0)).toEqual({ kind: 'unsatisfiable' });
  });
});

describe('clampRange', () => {
  it('when the end lies past the object, then it is clamped', () => {
    expect(clampRange({ start: 5, end: 1000 }, 10)).toEqual({ start: 5, end: 9 });
  });

  it('when the start lies past the object or is negative, then null', () => {
    expect(clampRange({ start: 10 }, 10)).toBeNull();
    expect(clampRange({ start: -1 }, 10)).toBeNull();
  });
});
