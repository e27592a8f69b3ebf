/** Entry point of the `hush` command (bin/hush.js loads the compiled copy). */
import { main } from './main.js';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// A failure has closed what it opened; should a driver still hold the event loop, exit anyway.
if (code !== 0) setTimeout(() => process.exit(code), 2000).unref();
