package io.jsock.server;

/**
 * A server's counters at one moment, from {@link TcpServer#stats()} or {@link UdpServer#stats()}.
 * The counters are read one after another while the server runs, so a snapshot taken under load may
 * be a few events apart between fields, and a byte is counted just after the kernel took it (a peer
 * may see it a moment before the count does); once the server is quiet they are exact.
 *
 * @param open connections being served now (for UDP: datagrams being handled now)
 * @param accepted connections handed to the handler since the start (UDP: datagrams)
 * @param refused connections reset at once because {@link ServerConfig#maxConnections()} were open
 *     (UDP: datagrams dropped because that many were being handled)
 * @param timedOut connections closed because the first-byte deadline passed, or whose handler ended
 *     with a {@link java.net.SocketTimeoutException} (the idle timeout of a recv, the write timeout
 *     of a send); not one the kernel gave up on ({@link io.jsock.ConnectionTimedOutException}: its
 *     keepalive probes or retransmissions went unanswered), which is the peer's doing, logged at
 *     INFO as a reset is; always 0 for UDP
 * @param bytesIn bytes received by the connections' sockets (UDP: by the server's socket, refused
 *     datagrams included)
 * @param bytesOut bytes sent by the connections' sockets (UDP: by the server's socket); with TLS,
 *     both count the bytes on the wire, handshake and record overhead included
 * @param tlsFailed connections of a TLS server ({@link ServerConfig#withTls}) closed because their
 *     handshake failed or did not finish in time; they never reached the handler, and are also
 *     counted in {@code accepted}. Always 0 without TLS and for UDP.
 * @param oversized connections whose handler ended on a message over its framing's maximum (a
 *     {@link io.jsock.framing.FrameException} with {@code EMSGSIZE}, raised before the message was
 *     allocated): the framework's frame and line size limit, counted
 */
public record ServerStats(
    long open,
    long accepted,
    long refused,
    long timedOut,
    long bytesIn,
    long bytesOut,
    long tlsFailed,
    long oversized) {}
