package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What {@link PolledChannel#await} tells its caller: whether readiness ended the wait or the
 * deadline did. A caller whose deadline has passed tries its operation once more only on readiness,
 * as CPython's timeout-mode calls do after their {@code poll}. On the epoll path a platform thread
 * waits in {@code poll(2)} itself, so a deadline already passed when it looks is deterministic: the
 * poll, not the clock, answers (on the other paths a timer and an event race).
 */
@Timeout(60)
class PolledChannelTest {
  @Test
  void aWaitWhosePollFindsRoomReportsReadinessThoughItsDeadlineHasPassed() throws IOException {
    assumeThat(Epoll.isAvailable()).as("the epoll run only").isTrue();
    try (ChannelPair pair = ChannelPair.open()) {
      PolledChannel polled = new PolledChannel(pair.ours());
      long passed = System.nanoTime() + 1; // passed by the time the wait looks at it

      assertThat(polled.await(SelectionKey.OP_WRITE, passed)).as("room: ready").isTrue();
    }
  }

  @Test
  void aWaitThatReachesItsDeadlineWithNothingToReadReportsNoReadiness() throws IOException {
    assumeThat(Epoll.isAvailable()).as("the epoll run only").isTrue();
    try (ChannelPair pair = ChannelPair.open()) {
      PolledChannel polled = new PolledChannel(pair.ours());

      assertThat(polled.await(SelectionKey.OP_READ, System.nanoTime() + 1)).isFalse();

      pair.peer().write(ByteBuffer.wrap(new byte[] {42}));
      // no deadline: the wait ends once the byte has come, and says so
      assertThat(polled.await(SelectionKey.OP_READ, Long.MAX_VALUE)).as("data: ready").isTrue();
    }
  }
}
