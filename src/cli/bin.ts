/** Entry point of the `hush` command (bin/hush.js loads the compiled copy). */
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
