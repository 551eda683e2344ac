package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The epoll poller's table of channels by file descriptor. Ten thousand sockets that start waiting
 * at once register from as many threads while the table grows; an entry written into the old array
 * after the growth copied it would be lost, and that socket's thread would never wake (it happened
 * once in {@code IdleSocketsTest}, before changes took the table's lock).
 */
@Timeout(60)
class FdTableTest {
  private static final int THREADS = 8;
  private static final int FDS_PER_THREAD = 4_000;

  @Test
  void entriesPutWhileOtherThreadsGrowTheTableAreAllThere() throws Exception {
    try (SocketChannel channel = SocketChannel.open()) {
      channel.configureBlocking(false);
      PolledChannel polled = new PolledChannel(channel);
      for (int round = 0; round < 20; round++) {
        FdTable table = new FdTable(16);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          int first = t;
          threads.add(
              Thread.ofPlatform()
                  .start(
                      () -> {
                        awaitQuietly(start);
                        // interleaved fds, so that every thread writes near the growing edge
                        for (int i = 0; i < FDS_PER_THREAD; i++) {
                          table.put(first + i * THREADS, polled);
                        }
                      }));
        }
        start.countDown();
        for (Thread thread : threads) {
          thread.join();
        }

        int all = THREADS * FDS_PER_THREAD;
        assertThat(IntStream.range(0, all).filter(fd -> table.get(fd) != polled).boxed().toList())
            .as("fds whose entry was lost in round %d", round)
            .isEmpty();
        assertThat(table.capacity()).isGreaterThanOrEqualTo(all);
      }
    }
  }

  @Test
  void removeTakesOutOnlyTheGivenChannelsEntry() throws IOException {
    try (SocketChannel a = SocketChannel.open();
        SocketChannel b = SocketChannel.open()) {
      a.configureBlocking(false);
      b.configureBlocking(false);
      PolledChannel first = new PolledChannel(a);
      PolledChannel second = new PolledChannel(b);
      FdTable table = new FdTable(4);
      table.put(3, first);
      table.put(3, second); // the fd number was closed and given to another socket

      table.remove(3, first);
      assertThat(table.get(3)).isSameAs(second);
      table.remove(3, second);
      assertThat(table.get(3)).isNull();
      assertThat(table.get(1_000_000)).as("beyond the table").isNull();
      table.remove(1_000_000, second); // nothing there: nothing happens
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
