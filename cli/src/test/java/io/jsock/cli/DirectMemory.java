package io.jsock.cli;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/** The JDK's direct buffer pool, for tests that check a buffer is not left to the collector. */
final class DirectMemory {
  private DirectMemory() {}

  /**
   * The bytes of the JVM's direct buffers not yet freed ({@code ByteBuffer.allocateDirect}'s, not
   * an {@link java.lang.foreign.Arena}'s).
   */
  static long used() {
    return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
        .filter(pool -> pool.getName().equals("direct"))
        .findFirst()
        .orElseThrow()
        .getMemoryUsed();
  }
}
