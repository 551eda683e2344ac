package io.jsock.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The build runs the tests on both readiness paths: check each run is on the one it means. */
class PollerChoiceTest {
  @Test
  void theEpollPollerServesWhenTheJvmAllowsIt() {
    if (Boolean.getBoolean("jsock.selectorPoller")) {
      assertThat(EpollPoller.INSTANCE).isNull();
      assertThat(Epoll.whyUnavailable()).isEqualTo("jsock.selectorPoller is set");
      assertThat(StreamCalls.isAvailable()).as("reads and writes through the channel").isFalse();
    } else {
      assertThat(Epoll.whyUnavailable()).isNull();
      assertThat(EpollPoller.INSTANCE).isNotNull();
      assertThat(StreamCalls.isAvailable()).as("recv(2) and send(2) in place").isTrue();
    }
  }
}
