package io.jsock.cli;

import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import io.jsock.ConnectionTimedOutException;
import io.jsock.Shutdown;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.cli.TransferProtocol.Answer;
import io.jsock.cli.TransferProtocol.Go;
import io.jsock.cli.TransferProtocol.Header;
import io.jsock.cli.TransferProtocol.Refused;
import io.jsock.cli.TransferProtocol.Verdict;
import io.jsock.tls.TlsContext;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jsock send FILE HOST PORT}: sends one file to {@code jsock receive}, verified by SHA-256.
 */
@Command(
    name = "send",
    header = "Sends a file to jsock receive, SHA-256 verified, with a progress bar.",
    mixinStandardHelpOptions = true,
    description = {
      "Sends FILE to a 'jsock receive' listening at HOST PORT, verified by SHA-256.",
      "",
      "The file's SHA-256 is computed first and announced with its name (base name only) and"
          + " size; the data goes with sendfile (zero-copy: the kernel copies the file to the"
          + " socket); the receiver hashes what arrives and answers whether it matches. Exits 0"
          + " only when it does.",
      "",
      "If the receiver resumes (receive --resume), only the rest of the file is sent, after"
          + " checking that the SHA-256 of the receiver's part equals that of the start of FILE;"
          + " if it does not, both sides refuse and exit 1.",
      "",
      "A progress bar (percentage, bytes, rate, ETA) is drawn on stderr when stderr is a"
          + " terminal; a one-line summary goes to stderr at the end, and with --json a summary"
          + " object to stdout.",
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  jsock receive 9000 out/            # on the receiving machine",
      "  jsock send data.bin 127.0.0.1 9000",
      "  jsock send --rate 2MiB/s backup.tar 127.0.0.1 9000",
      "  tar c photos | jsock send --name photos.tar - 127.0.0.1 9000",
      "  jsock send --json data.bin 127.0.0.1 9000 | jq .bytes_per_second",
      "  jsock send --tls --ca cert.pem data.bin localhost 9000",
      "",
      "Exit codes: 0 sent and verified, 1 refused, cut short or SHA-256 mismatch,",
      "2 usage, 3 connection refused, 4 timed out, 5 TLS failure, 6 unknown host.",
    })
final class SendCommand implements Callable<Integer> {
  /** Bytes per sendfile call when not rate-limited: big enough to stay zero-copy and fast. */
  private static final long CHUNK = 4L * 1024 * 1024;

  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "FILE",
      description =
          "The file to send; - reads standard input to its end first (into a temporary file,"
              + " deleted afterwards), so that its size and SHA-256 are known before sending.")
  Path file;

  @Parameters(
      index = "1",
      paramLabel = "HOST",
      converter = Host.class,
      description = "Where 'jsock receive' listens: a name or an IPv4/IPv6 literal.")
  String host;

  @Parameters(index = "2", paramLabel = "PORT", converter = Port.class, description = "Its port.")
  int port;

  @Option(
      names = "--rate",
      paramLabel = "RATE",
      converter = Sizes.Rate.class,
      description =
          "Send at most RATE: 2MiB/s, 500KiB/s, 10MB/s, or bytes per second"
              + " (default: as fast as the network goes).")
  Long rate;

  @Option(
      names = {"-w", "--timeout"},
      paramLabel = "DURATION",
      defaultValue = "60s",
      converter = Durations.Timeout.class,
      description =
          "Longest wait for the receiver to connect (and finish the TLS handshake), answer or"
              + " take data: 500ms, 2s, 1m"
              + " (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description =
          "The file name to announce, a plain name without a directory (default: FILE's own"
              + " name; 'stdin' for -).")
  String name;

  @Option(names = "--json", description = "Print a summary object on stdout at the end.")
  boolean json;

  @Option(names = "--tls", description = "Speak TLS to the receiver (which needs --tls too).")
  boolean tls;

  @Mixin ClientTlsOptions clientTls;

  @Override
  public Integer call() throws IOException {
    checkOptions();
    Lines out = Lines.stdout(spec.commandLine());
    Lines err = new Lines(spec.commandLine().getErr()).prefixed("jsock: ");
    StderrLog.install(err);
    if (isStdin()) {
      // DELETE_ON_CLOSE unlinks the spool as soon as it is open (on Unix; Windows deletes it when
      // its handle closes), so that no way out, Ctrl-C or kill included, leaves it behind.
      try (FileChannel spool =
          FileChannel.open(
              Files.createTempFile("jsock-send-", ".stdin"), READ, WRITE, DELETE_ON_CLOSE)) {
        spoolStandardInput(spool);
        return send(spool, name == null ? "stdin" : name, out, err);
      }
    }
    try (FileChannel data = FileChannel.open(file)) {
      return send(data, name == null ? file.getFileName().toString() : name, out, err);
    }
  }

  /**
   * Copies stdin, to its end, into the spool. Read through {@link StandardStreams}, which waits on
   * a stdin another process made non-blocking, where {@code System.in} failed with EAGAIN.
   */
  private static void spoolStandardInput(FileChannel spool) throws IOException {
    StandardStreams std = new StandardStreams();
    ByteBuffer chunk = ByteBuffer.allocateDirect(StandardStreams.CHUNK);
    while (std.read(chunk) >= 0) {
      chunk.flip();
      while (chunk.hasRemaining()) {
        spool.write(chunk);
      }
      chunk.clear();
    }
  }

  private int send(FileChannel data, String name, Lines out, Lines err) throws IOException {
    // hashed before connecting: the receiver's --timeout for the header runs from the connection
    long size = data.size();
    byte[] sha256 = TransferProtocol.sha256Of(data, size).digest();
    try (Socket conn = connect()) {
      DataInputStream in = new DataInputStream(conn.getInputStream());
      TransferProtocol.writeHeader(conn, new Header(name, size, sha256));
      Go go = goAhead(conn, in, data, name, size);
      long start = System.nanoTime();
      try (TransferProgress progress = TransferProgress.start("send " + name, size, go.offset())) {
        sendData(conn, data, go.offset(), size, progress);
      }
      try {
        conn.shutdown(Shutdown.SHUT_WR);
      } catch (SocketException e) {
        // the receiver has gone (its reset took the connection): the verdict's read says how
      }
      Verdict verdict = readVerdict(in, name, size);
      long nanos = System.nanoTime() - start;
      if (!verdict.matched() || !TransferProtocol.same(verdict.sha256(), sha256)) {
        throw new TransferFailedException(
            "SHA-256 mismatch: "
                + name
                + " is "
                + TransferProtocol.hex(sha256)
                + ", the receiver got "
                + TransferProtocol.hex(verdict.sha256())
                + "; the receiver kept nothing");
      }
      TransferSummary summary =
          new TransferSummary("sent", name, size, go.offset(), nanos, TransferProtocol.hex(sha256));
      err.line(summary.line());
      if (json) {
        out.line(summary.json());
      }
    }
    return ExitCode.OK.code();
  }

  private boolean isStdin() {
    return file.toString().equals("-");
  }

  private void checkOptions() {
    if (name != null && !TransferProtocol.isPlainFileName(name)) {
      throw new ParameterException(
          spec.commandLine(),
          "--name: not a plain file name (a path, '.', '..' or control characters): "
              + TransferProtocol.printable(name));
    }
    if (!isStdin() && !Files.isReadable(file) && !Files.notExists(file)) {
      // there but not readable, or not even known (a directory on the way that may not be read)
      throw new ParameterException(spec.commandLine(), "FILE: " + file + ": permission denied");
    }
    if (!isStdin() && !Files.isRegularFile(file)) {
      throw new ParameterException(
          spec.commandLine(),
          "FILE: "
              + file
              + (Files.isDirectory(file)
                  ? " is a directory (send takes a regular file)"
                  : Files.exists(file)
                      ? " is not a regular file (send takes a regular file; send - reads standard"
                          + " input, as from a device or a pipe)"
                      : " does not exist (send takes a regular file)"));
    }
    if (port == 0) {
      throw new ParameterException(spec.commandLine(), "PORT: 0 is not a port one can connect to");
    }
    if (clientTls.given() && !tls) {
      throw new ParameterException(
          spec.commandLine(), "--ca, --server-name and --insecure need --tls");
    }
  }

  private Socket connect() throws IOException {
    // a bad --ca before connecting; -w bounds the handshake too, as jsock connect's -w does
    TlsContext context = tls ? clientTls.context().withHandshakeTimeout(timeout) : null;
    Socket conn = Endpoints.connect(host, port, null, null, SocketKind.SOCK_STREAM, timeout);
    if (context != null) {
      conn = Endpoints.tlsClient(conn, context, clientTls.expectedName(host));
    }
    conn.setTimeout(timeout);
    return conn;
  }

  /** The receiver's answer, and the go-ahead once a resumed prefix is checked. */
  private Go goAhead(Socket conn, DataInputStream in, FileChannel data, String name, long size)
      throws IOException {
    Answer answer;
    try {
      answer = TransferProtocol.readAnswer(in, size);
    } catch (EOFException e) {
      throw new TransferFailedException(
          "the receiver closed the connection before answering (is it jsock receive?)", e);
    }
    // the receiver's texts are shown with their control characters as '?': a hostile receiver
    // (or anyone on the path) could otherwise send the sender's terminal escape sequences
    if (answer instanceof Refused refused) {
      throw new TransferFailedException(
          "the receiver refused: " + TransferProtocol.printable(refused.message()));
    }
    Go go = (Go) answer;
    if (go.offset() > 0) {
      byte[] prefix = TransferProtocol.sha256Of(data, go.offset()).digest();
      if (!TransferProtocol.same(prefix, go.prefixSha256())) {
        conn.sendAll(new byte[] {TransferProtocol.RESUME_REFUSED});
        throw new TransferFailedException(
            "resume refused: the "
                + go.offset()
                + " bytes already at "
                + TransferProtocol.printable(go.partialName())
                + " (on the receiver) differ from the start of "
                + name);
      }
    }
    conn.sendAll(new byte[] {TransferProtocol.DATA});
    return go;
  }

  /**
   * Sends the file from {@code offset} with sendfile, in chunks so that the bar moves and the rate
   * limit holds: after each chunk it waits until the time that many bytes are due at that rate.
   */
  private void sendData(
      Socket conn, FileChannel data, long offset, long size, TransferProgress progress)
      throws IOException {
    // a tenth of a second's bytes at a time: the receiver's -w sees data often however slow
    long chunk = rate == null ? CHUNK : Math.clamp(rate / 10, 1, CHUNK);
    RatePacer pacer = rate == null ? null : new RatePacer(rate);
    long sent = 0;
    long remaining = size - offset;
    while (sent < remaining) {
      long began = System.nanoTime();
      long n;
      try {
        n = sendChunk(conn, data, offset + sent, Math.min(chunk, remaining - sent));
      } catch (SocketTimeoutException e) { // exit code 4 still
        throw (SocketTimeoutException)
            new SocketTimeoutException(e.getMessage() + cutAt(offset + sent, size)).initCause(e);
      } catch (SocketException e) { // reset, aborted
        throw new TransferFailedException(e.getMessage() + cutAt(offset + sent, size), e);
      }
      if (n == 0) {
        throw new TransferFailedException(
            file + " shrank while being sent: it ended at byte " + (offset + sent));
      }
      sent += n;
      progress.stepTo(offset + sent);
      if (pacer != null) {
        waitUntil(pacer.book(n, began));
      }
    }
  }

  /**
   * One sendfile of up to {@code count} bytes from {@code from}. The socket's timeout ({@code -w})
   * bounds a call as a whole, so a receiver that takes data all the time, but less than a chunk in
   * {@code -w}, would time out though it never kept us waiting that long for a byte. A call that
   * timed out after some bytes went returns those (the file's position is past them), and only one
   * in which none went fails: as Python's sendfile, whose timeout bounds each wait.
   */
  private static long sendChunk(Socket conn, FileChannel data, long from, long count)
      throws IOException {
    data.position(from);
    try {
      return conn.sendFile(data, from, count);
    } catch (SocketTimeoutException e) {
      long went = data.position() - from;
      if (went > 0 && !(e instanceof ConnectionTimedOutException)) { // not the kernel giving up
        return went;
      }
      throw e;
    }
  }

  /**
   * Where a send cut short stopped, for its message, as the receiver says it: the bytes handed to
   * the kernel (a resumed prefix counted), of the file's size.
   */
  private static String cutAt(long done, long size) {
    return " after " + done + " of " + size + " bytes";
  }

  private static void waitUntil(long due) throws IOException {
    long left;
    while ((left = due - System.nanoTime()) > 0) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) {
        throw new InterruptedIOException("interrupted while rate-limiting");
      }
    }
  }

  /**
   * The receiver's verdict. A wait for it cut short (the receiver's host gone once every byte was
   * handed to the kernel, as a file that fits in the socket's buffers is at once) says how far the
   * data got, as a send cut short does.
   */
  private static Verdict readVerdict(DataInputStream in, String name, long size)
      throws IOException {
    String cut = cutAt(size, size) + ", before the receiver confirmed " + name;
    try {
      return TransferProtocol.readVerdict(in);
    } catch (EOFException e) {
      throw new TransferFailedException(
          "the receiver closed the connection before confirming " + name, e);
    } catch (SocketTimeoutException e) { // exit code 4 still
      throw (SocketTimeoutException) new SocketTimeoutException(e.getMessage() + cut).initCause(e);
    } catch (SocketException e) { // reset, aborted
      throw new TransferFailedException(e.getMessage() + cut, e);
    }
  }
}
