package io.jsock.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The process's stdin and stdout as channels, for the commands that move data: 64 KiB chunks go
 * from a direct buffer to the file descriptor without {@code System.in}/{@code System.out}'s copies
 * and locks. Chunks written by several threads never interleave; a stdout whose reader went away
 * ({@code | head}) ends the output quietly instead of failing.
 *
 * <p>{@link #ofProgram} gives the same view of a program run for a connection ({@code -e}, {@code
 * -c}): its stdout read as stdin is, its stdin written as stdout is.
 */
final class StandardStreams {
  /** The size of a chunk: what one read of stdin or of a socket moves at most. */
  static final int CHUNK = 64 * 1024;

  /** How long to wait before trying a non-blocking stdin or stdout again. */
  private static final Duration NON_BLOCKING_PAUSE = Duration.ofMillis(10);

  // Channels over fds 0 and 1 (or a program's stdout and stdin): the one read is never closed
  // (a program's, the JDK closes as it exits); the one written only by closeOut.
  private final ReadableByteChannel in;
  private final WritableByteChannel out;
  private final String inName;
  private final String outName;

  /** A program's stdin: once it takes no more, what comes for it is dropped (see ofProgram). */
  private final boolean program;

  /** The program's exit; jsock's own stdin has no writer whose end jsock sees. */
  private final CompletableFuture<?> writerExit;

  private final Object writing = new Object();
  private volatile boolean outGone;
  private volatile boolean inEnded;
  private boolean outClosed; // guarded by writing
  private boolean outDropped; // guarded by writing: a program that takes no more

  /** The process's own stdin and stdout. */
  StandardStreams() {
    this(
        new FileInputStream(FileDescriptor.in).getChannel(),
        new FileOutputStream(FileDescriptor.out).getChannel(),
        "stdin",
        "stdout",
        false,
        new CompletableFuture<>());
  }

  private StandardStreams(
      ReadableByteChannel in,
      WritableByteChannel out,
      String inName,
      String outName,
      boolean program,
      CompletableFuture<?> writerExit) {
    this.in = in;
    this.out = out;
    this.inName = inName;
    this.outName = outName;
    this.program = program;
    this.writerExit = writerExit;
  }

  /**
   * A program's stdout, read in place of stdin, and its stdin, written in place of stdout ({@code
   * name} says which program in messages). A program that takes no more (it closed its stdin, or
   * exited) is not a reader gone away that ends the connection, as stdout's is: its answer may
   * still be coming, so what would go to it is dropped instead, as ncat drops it.
   */
  static StandardStreams ofProgram(Process process, String name) {
    return new StandardStreams(
        Channels.newChannel(process.getInputStream()),
        new FlushingChannel(process.getOutputStream()),
        "the output of " + name,
        "the input of " + name,
        true,
        process.onExit());
  }

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
      if (n < 0) {
        inEnded = true;
      }
      return n;
    } catch (IOException e) {
      throw new IOException("read from " + inName + ": " + describe(e), e);
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
      if (outDropped) {
        chunk.position(chunk.limit());
        return true;
      }
      try {
        while (chunk.hasRemaining()) {
          if (out.write(chunk) == 0) {
            pause(); // a non-blocking stdout that is full
          }
        }
        return true;
      } catch (IOException e) {
        if (program) {
          outDropped = true; // closed (EPIPE), or closed by the JDK as the program exited
          chunk.position(chunk.limit());
          return true;
        }
        // The JVM ignores SIGPIPE, so a closed pipe arrives here as EPIPE, which the JDK reports
        // only in its message. The reader has all it wanted: not an error.
        if ("Broken pipe".equals(e.getMessage())) {
          outGone = true;
          return false;
        }
        throw new IOException("write to " + outName + ": " + describe(e), e);
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
        if (program) {
          return; // it takes no more: its stdin has ended already
        }
        throw new IOException("close " + outName + ": " + describe(e), e);
      }
    }
  }

  /** Whether {@link #read} has come to the end of stdin (a program's: its stdout has ended). */
  boolean isInEnded() {
    return inEnded;
  }

  /**
   * Completes when the program that writes stdin (a program's stdout) has exited; never for jsock's
   * own stdin, whose writer jsock does not see.
   */
  CompletableFuture<?> writerExit() {
    return writerExit;
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

  /**
   * A program's stdin as a channel that flushes each write: the JDK buffers a process's stdin,
   * where a connection's bytes must reach the program as they come.
   */
  private static final class FlushingChannel implements WritableByteChannel {
    private final OutputStream stream;
    private final WritableByteChannel channel;

    FlushingChannel(OutputStream stream) {
      this.stream = stream;
      this.channel = Channels.newChannel(stream);
    }

    @Override
    public int write(ByteBuffer chunk) throws IOException {
      int n = channel.write(chunk);
      stream.flush();
      return n;
    }

    @Override
    public boolean isOpen() {
      return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
