/**
 * A TCP proxy a test can cut: an outage of one dependency (the database) for the processes that
 * reach it through the proxy, without touching the real server other tests share.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Forwards connections on a local port to `target`; {@link stop} cuts them, {@link start} resumes. */
export class TcpProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(private readonly target: { readonly host: string; readonly port: number }) {}

  /** The local port (stable across stop and start). */
  get port(): number {
    return this.#port;
  }

  /** Listens (on the same port as before, after a {@link stop}) and forwards every new connection. */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      this.#track(client);
      this.#track(upstream);
      const cut = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', cut).on('close', cut);
      upstream.on('error', cut).on('close', cut);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP address');
    this.#port = address.port;
    this.#server = server;
  }

  /**
   * The outage: refuses new connections (nothing listens on the port any more) and breaks every
   * open one, as a database that went away would.
   */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }
}
