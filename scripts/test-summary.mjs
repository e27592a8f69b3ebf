// A node:test reporter for scripts/test.mjs: it keeps the runner's closing totals (tests, pass, fail,
// cancelled, skipped, todo, duration_ms) in the JSON file named by HUSH_TEST_TOTALS. Written synchronously as
// each total arrives, because --test-force-exit ends the process right after the last one is reported.
import { writeFileSync } from 'node:fs';

export default async function* summary(source) {
  const totals = {};
  for await (const event of source) {
    if (event.type !== 'test:diagnostic' || event.data.nesting !== 0) continue;
    const match = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(event.data.message);
    if (!match) continue;
    totals[match[1]] = Number(match[2]);
    if (process.env.HUSH_TEST_TOTALS) writeFileSync(process.env.HUSH_TEST_TOTALS, JSON.stringify(totals));
  }
  yield '';
}
