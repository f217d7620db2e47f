import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anyAnswerProperty, startAnyAnswer } from './anyAnswer.js';

/** Few runs in `npm test`; `npm run soak` runs 10 000 and more. */
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 50);

let subject: Awaited<ReturnType<typeof startAnyAnswer>>;
beforeAll(async () => {
  subject = await startAnyAnswer();
});
afterAll(async () => {
  await subject.close();
});

describe('any answer on any endpoint', () => {
  it('yields a valid result or a typed AuthError, never a TypeError or another error class', async () => {
    await fc.assert(anyAnswerProperty(subject.check), { numRuns: RUNS });
  });

  it('can fail: a check that meets a TypeError makes the property fail', async () => {
    const details = await fc.check(
      anyAnswerProperty(async () => 'rejected with TypeError: x is undefined'),
      { numRuns: 3 },
    );

    expect(details.failed).toBe(true);
  });
});
