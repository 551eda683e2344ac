package io.jsock;

import static io.jsock.Family.AF_INET;
import static io.jsock.SocketKind.SOCK_STREAM;
import static org.assertj.core.api.Assertions.assertThat;

import io.jsock.testing.ChildJvm;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blocking calls that must not hold a virtual thread's carrier: checked in a JVM with one carrier
 * and no compensating one, where a call that blocks in the kernel on its carrier stops every other
 * virtual thread for as long.
 *
 * <p>The rest of the blocking calls were checked by hand the same way (20 virtual threads in each
 * at once, each on its own socket, a counting virtual thread beside them, JFR's {@code
 * jdk.VirtualThreadPinned} at threshold 0, on both pollers, blocking and with a timeout): TCP
 * {@code recv}, {@code recvInto}, {@code sendAll} to a peer that does not read, {@code accept},
 * {@code connect} to a full backlog, UDP {@code recvFrom} and a connected UDP {@code recv}, AF_UNIX
 * {@code recv}, {@code accept} and {@code connect} to a full backlog, socket pairs, {@code
 * SocketSelector.select}, TLS handshakes (client and server), TLS {@code recv} and {@code sendAll},
 * {@code Framed.recvMsg} and {@code sendMsg}, {@code sendFile}, the name service calls, {@code
 * makeFile} ("rb", "r", "wb") and {@code getInputStream}, a close while others wait, and a {@code
 * TcpServer} (plain and TLS) with 50 idle connections answering a 51st: none pinned or starved.
 */
class CarrierPinningTest {
  @TempDir Path dir;

  // Linux's close(2) of a TCP socket with SO_LINGER above 0 and unsent data waits in the kernel,
  // non-blocking socket or not; a virtual thread closing so held its carrier for the whole linger.
  @Test
  void aLingeringCloseLetsTheOtherVirtualThreadsRunOnTheOnlyCarrier() throws Exception {
    List<String> options = new ArrayList<>();
    options.add("-Djdk.virtualThreadScheduler.parallelism=1");
    options.add("-Djdk.virtualThreadScheduler.maxPoolSize=1");
    String selectorPoller = System.getProperty("jsock.selectorPoller");
    if (selectorPoller != null) {
      options.add("-Djsock.selectorPoller=" + selectorPoller);
    }

    List<String> printed =
        ChildJvm.run(LingeringCloses.class, Map.of(), dir, options.toArray(String[]::new));

    assertThat(printed)
        .containsExactly(
            "own SO_LINGER: another virtual thread ran during the close",
            "inherited SO_LINGER: another virtual thread ran during the close");
  }

  /**
   * Closes, on a virtual thread, a connection with SO_LINGER 1 whose peer reads nothing (its own
   * option, then one its listener gave it), while another virtual thread looks every 10 ms whether
   * the close is under way; prints whether it ever saw it so.
   */
  static final class LingeringCloses {
    public static void main(String[] args) throws Exception {
      for (boolean inherited : new boolean[] {false, true}) {
        try (Socket listener = Socket.create(AF_INET, SOCK_STREAM)) {
          if (inherited) {
            listener.setSockOpt(StandardSocketOptions.SO_LINGER, 1);
          }
          listener.bind("127.0.0.1", 0);
          listener.listen();
          try (Socket client = Socket.create(AF_INET, SOCK_STREAM)) {
            client.setSockOpt(StandardSocketOptions.SO_RCVBUF, 4096); // before the window is set
            client.connect(listener.getSockName());
            Socket conn = listener.accept().conn();
            if (!inherited) {
              conn.setSockOpt(StandardSocketOptions.SO_LINGER, 1);
            }
            conn.setSockOpt(StandardSocketOptions.SO_SNDBUF, 256 * 1024);
            fill(conn);
            AtomicBoolean closing = new AtomicBoolean();
            AtomicBoolean closed = new AtomicBoolean();
            AtomicInteger seenClosing = new AtomicInteger();
            Thread closer =
                Thread.ofVirtual()
                    .start(
                        () -> {
                          closing.set(true);
                          try {
                            conn.close();
                          } catch (IOException e) {
                            e.printStackTrace();
                          } finally {
                            closing.set(false);
                            closed.set(true);
                          }
                        });
            Thread other =
                Thread.ofVirtual()
                    .start(
                        () -> {
                          for (int i = 0; i < 1_000 && !closed.get(); i++) {
                            if (closing.get()) {
                              seenClosing.incrementAndGet();
                            }
                            try {
                              Thread.sleep(10);
                            } catch (InterruptedException e) {
                              return;
                            }
                          }
                        });
            closer.join();
            other.join();
            System.out.println(
                (inherited ? "inherited" : "own")
                    + " SO_LINGER: "
                    + (seenClosing.get() > 0
                        ? "another virtual thread ran during the close"
                        : "no other virtual thread ran during the close"));
          }
        }
      }
    }

    /**
     * Sends until the socket's buffer is full. Its set size is far more than the peer's small
     * receive buffer takes, so bytes stay unsent, and the close lingers, however late the kernel
     * moves them. With the defaults, the filling could end at a send that found the first 16 KiB of
     * a growing send buffer still queued (its softirq work late, under load); the peer's 128 KiB
     * could then take it all, and the close would not linger.
     */
    private static void fill(Socket conn) throws IOException {
      conn.setBlocking(false);
      byte[] chunk = new byte[64 * 1024];
      for (int i = 0; i < 10_000; i++) {
        try {
          conn.send(chunk);
        } catch (WouldBlockException full) {
          break;
        }
      }
      conn.setBlocking(true);
    }
  }
}
