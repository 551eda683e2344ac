package io.jsock.cli;

import io.jsock.Socket;
import io.jsock.SocketSelector;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * What one event loop of {@code jsock bench} serves ({@link StreamEventLoop}, {@link
 * UdpEventLoop}): the sockets {@code first}, {@code first + step}, … of {@code open}, opened in
 * blocking mode, and the run they share.
 */
record LoopShare(
    AtomicReferenceArray<Socket> open,
    int first,
    int step,
    LoadPlan plan,
    EchoPattern pattern,
    LoadRun run) {

  /**
   * Ends one socket's part after a failure: the run counts it, and the loop's selector stops
   * watching the socket (the driver closes it at the end of the run).
   */
  void fail(SocketSelector selector, Socket socket, IOException e) {
    run.error(e);
    try {
      selector.unregister(socket);
    } catch (IOException | IllegalArgumentException ignored) {
      // never registered, or the selector is closing
    }
  }
}
