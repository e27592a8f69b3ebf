/**
 * Target (d): hush as `hush start` builds it, but with the verified-token cache off — there is no
 * environment switch for that, so this calls createHush directly. Reads the same environment.
 */
import { loadConfig } from '../../../src/config.js';
import { createHush } from '../../../src/server.js';
import { announce } from '../children.js';

const hush = await createHush(loadConfig(process.env), { tokenCacheSize: 0 });
const url = await hush.app.listen({ port: hush.config.port, host: hush.config.host });
announce({ url });
process.once('SIGTERM', () => void hush.close().then(() => process.exit(0)));
