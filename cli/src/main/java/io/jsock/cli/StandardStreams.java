package io.jsock.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Duration;

/**
 * The process's stdin and stdout as channels, for the commands that move data: 64 KiB chunks go
 * from a direct buffer to the file descriptor without {@code System.in}/{@code System.out}'s copies
 * and locks. Chunks written by several threads never interleave; a stdout whose reader went away
 * ({@code | head}) ends the output quietly instead of failing.
 */
final class StandardStreams {
  /** The size of a chunk: what one read of stdin or of a socket moves at most. */
  static final int CHUNK = 64 * 1024;

  /** How long to wait before trying a non-blocking stdin or stdout again. */
  private static final Duration NON_BLOCKING_PAUSE = Duration.ofMillis(10);

  // Channels over fds 0 and 1: stdin's is never closed; stdout's only by closeOut.
  private final FileChannel in = new FileInputStream(FileDescriptor.in).getChannel();
  private final FileChannel out = new FileOutputStream(FileDescriptor.out).getChannel();
  private final Object writing = new Object();
  private volatile boolean outGone;
  private boolean outClosed; // guarded by writing

  /**
   * Reads what stdin has (at most the buffer's remaining space) and returns the count, -1 at its
   * end. Blocks until something comes.
   */
  int read(ByteBuffer buffer) throws IOException {
    try {
      int n;
      while ((n = in.read(buffer)) == 0 && buffer.hasRemaining()) {
        pause(); // a non-blocking stdin with nothing yet: not its end
      }
      return n;
    } catch (IOException e) {
      throw new IOException("read from stdin: " + describe(e), e);
    }
  }

  /**
   * Writes the whole chunk (position to limit) to stdout, in one piece with respect to other
   * threads. Returns false, writing nothing, once stdout's reader has gone away (a broken pipe).
   */
  boolean write(ByteBuffer chunk) throws IOException {
    synchronized (writing) {
      if (outGone || outClosed) {
        return false;
      }
      try {
        while (chunk.hasRemaining()) {
          if (out.write(chunk) == 0) {
            pause(); // a non-blocking stdout that is full
          }
        }
        return true;
      } catch (IOException e) {
        // The JVM ignores SIGPIPE, so a closed pipe arrives here as EPIPE, which the JDK reports
        // only in its message. The reader has all it wanted: not an error.
        if ("Broken pipe".equals(e.getMessage())) {
          outGone = true;
          return false;
        }
        throw new IOException("write to stdout: " + describe(e), e);
      }
    }
  }

  /**
   * Closes stdout, so that its reader sees the end of the data (as ncat closes it at the peer's end
   * of file, for {@code ncat -l | tar xzf -}) while the process goes on sending stdin. The JDK does
   * not close descriptor 1 itself but points it at /dev/null, so no file opened later takes it;
   * later writes write nothing.
   */
  void closeOut() throws IOException {
    synchronized (writing) {
      if (outClosed) {
        return;
      }
      outClosed = true;
      try {
        out.close();
      } catch (IOException e) {
        throw new IOException("close stdout: " + describe(e), e);
      }
    }
  }

  /** Whether stdout's reader has gone away. */
  boolean isOutGone() {
    return outGone;
  }

  /**
   * Waits a little before trying a non-blocking stdin or stdout again. O_NONBLOCK belongs to the
   * open pipe or terminal, shared with every process using it, so another one may have set it: the
   * JDK then reads and writes 0 bytes where it would have blocked, and there is no call to wait for
   * a plain file descriptor.
   */
  private static void pause() throws InterruptedIOException {
    try {
      Thread.sleep(NON_BLOCKING_PAUSE);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted");
    }
  }

  private static String describe(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
