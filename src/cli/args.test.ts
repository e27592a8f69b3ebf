import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flagVariable, parseArgs, UsageError } from './args.js';

describe('CLI arguments', () => {
  it('map every flag to the environment variable it mirrors', () => {
    assert.equal(flagVariable('port'), 'PORT');
    assert.equal(flagVariable('database-url'), 'DATABASE_URL');
    assert.equal(flagVariable('access-ttl'), 'HUSH_ACCESS_TTL');
    assert.equal(flagVariable('data-dir'), 'HUSH_DATA_DIR');
  });

  it('split words from --name value and --name=value', () => {
    assert.deepEqual(parseArgs(['user', 'create', 'alice', '--data-dir', '/tmp/x', '--port=4000']), {
      words: ['user', 'create', 'alice'],
      env: { HUSH_DATA_DIR: '/tmp/x', PORT: '4000' },
      help: false,
    });
  });

  it('refuse unknown flags, missing values and secrets on the command line', () => {
    assert.throws(() => parseArgs(['start', '--colour', 'blue']), UsageError);
    assert.throws(() => parseArgs(['start', '--port']), /needs a value/);
    assert.throws(() => parseArgs(['start', '--secret', 'x'.repeat(40)]), (e: Error) => /environment/.test(e.message) && !e.message.includes('xxxx'));
  });
});
