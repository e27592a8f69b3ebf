/**
 * A TCP proxy a test can cut: an outage of one dependency (the database) for the processes that
 * reach it through the proxy, without touching the real server other tests share.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * Forwards connections on a local port to `target`. Two kinds of outage:
 * - {@link stop}: nothing listens any more and every open connection breaks (a database that went
 *   down: refused connections, resets), undone by {@link start};
 * - {@link freeze}: a silent one (packets dropped: a partition, a host that vanished) — open
 *   connections stop carrying data without breaking, new ones are accepted and never answered.
 *   {@link thaw} forwards new connections again; the frozen ones stay frozen, as connections whose
 *   state a partition lost do.
 */
export class TcpProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  /** Connections forward data only while the generation they were opened in is current. */
  #generation = 0;
  #silent = false;

  constructor(private readonly target: { readonly host: string; readonly port: number }) {}

  /** The local port (stable across stop and start). */
  get port(): number {
    return this.#port;
  }

  /** Listens (on the same port as before, after a {@link stop}) and forwards every new connection. */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => this.#accept(client));
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

  /** Refuses new connections (nothing listens on the port any more) and breaks every open one. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }

  /** Silences every open connection and every new one, without closing anything. */
  freeze(): void {
    this.#generation++;
    this.#silent = true;
  }

  /** New connections are forwarded again; those frozen stay silent. */
  thaw(): void {
    this.#silent = false;
  }

  #accept(client: Socket): void {
    this.#track(client);
    if (this.#silent) {
      client.on('error', () => client.destroy());
      return;
    }
    const generation = this.#generation;
    const live = (): boolean => generation === this.#generation;
    const upstream = connect(this.target.port, this.target.host);
    this.#track(upstream);
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
    client.on('data', (chunk: Buffer) => {
      if (live()) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (live()) client.write(chunk);
    });
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }
}
