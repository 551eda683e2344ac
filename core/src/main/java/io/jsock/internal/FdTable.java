package io.jsock.internal;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The registered channels by file descriptor: what the {@link EpollPoller} looks up for each event.
 * Lookups take no lock; changes take this table's monitor, so that growing the table (copying every
 * entry into a larger array) never races a change to an entry and loses it. A lost entry would drop
 * that socket's events: its waiting thread would never wake.
 */
final class FdTable {
  private volatile AtomicReferenceArray<PolledChannel> slots;

  FdTable(int initialSize) {
    slots = new AtomicReferenceArray<>(initialSize);
  }

  /** The channel registered for {@code fd}, or {@code null}. */
  PolledChannel get(int fd) {
    AtomicReferenceArray<PolledChannel> current = slots;
    return fd < current.length() ? current.get(fd) : null;
  }

  /** Registers {@code channel} for {@code fd}, growing the table when the fd is beyond it. */
  synchronized void put(int fd, PolledChannel channel) {
    AtomicReferenceArray<PolledChannel> current = slots;
    if (fd >= current.length()) {
      AtomicReferenceArray<PolledChannel> larger =
          new AtomicReferenceArray<>(Math.max(fd + 1, current.length() * 2));
      for (int i = 0; i < current.length(); i++) {
        larger.set(i, current.get(i));
      }
      slots = larger;
      current = larger;
    }
    current.set(fd, channel);
  }

  /** Removes {@code fd}'s entry if it is still {@code channel}'s. */
  synchronized void remove(int fd, PolledChannel channel) {
    AtomicReferenceArray<PolledChannel> current = slots;
    if (fd < current.length()) {
      current.compareAndSet(fd, channel, null);
    }
  }

  /** How many file descriptors the table has room for without growing. */
  int capacity() {
    return slots.length();
  }
}
