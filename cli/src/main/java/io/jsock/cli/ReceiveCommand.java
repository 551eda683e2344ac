package io.jsock.cli;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import io.jsock.Accepted;
import io.jsock.Socket;
import io.jsock.SocketKind;
import io.jsock.cli.TransferProtocol.Go;
import io.jsock.cli.TransferProtocol.Header;
import io.jsock.cli.TransferProtocol.Refused;
import io.jsock.cli.TransferProtocol.Verdict;
import io.jsock.tls.Tls;
import io.jsock.tls.TlsContext;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jsock receive PORT [FILE]}: receives one file from {@code jsock send}, verified. */
@Command(
    name = "receive",
    header = "Receives a file from jsock send, SHA-256 verified.",
    mixinStandardHelpOptions = true,
    description = {
      "Receives one file from 'jsock send' on PORT, verified by SHA-256.",
      "",
      "Listens on 127.0.0.1 unless --host says otherwise; receives the file, hashing it as it"
          + " comes, into FILE.part, and renames that to FILE only when its SHA-256 equals the"
          + " sender's; then exits (or, with -k, waits for the next sender).",
      "",
      "FILE defaults to the name the sender gives, which must be a plain file name: names with"
          + " a path ('../x', 'a/b') are refused. If FILE is a directory, the file goes in it"
          + " under the sender's name. An existing FILE is never replaced without --force.",
      "",
      "With --resume, a FILE.part left by an interrupted transfer is continued: the sender"
          + " checks that its SHA-256 equals that of the start of its file, and both refuse"
          + " (exit 1, FILE.part untouched) if it does not.",
      "",
      "The listening address goes to stderr; a progress bar too when stderr is a terminal, and"
          + " a one-line summary at the end; with --json a summary object goes to stdout.",
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  jsock receive 9000                 # the sender's file name, here",
      "  jsock receive 9000 out.bin",
      "  jsock receive --resume 9000 out.bin  # after an interrupted transfer",
      "  jsock receive --host 0.0.0.0 -k 9000 incoming/",
      "  jsock receive --tls --cert cert.pem --key key.pem 9000 out.bin",
      "",
      "Exit codes: 0 received and verified, 1 refused, cut short or SHA-256 mismatch,",
      "2 usage, 4 timed out (-w), 5 TLS failure, 6 unknown host (--host),",
      "7 address already in use.",
    })
final class ReceiveCommand implements Callable<Integer> {
  private static final int BUFFER = 256 * 1024;

  @Spec CommandSpec spec;

  @Parameters(
      index = "0",
      paramLabel = "PORT",
      converter = Port.class,
      description = "Port to listen on; 0 picks a free one (said on stderr).")
  int port;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "FILE",
      description =
          "Where to put the file, or a directory to put it in (default: the sender's file name,"
              + " in the current directory).")
  Path target;

  @Option(
      names = "--host",
      paramLabel = "ADDR",
      defaultValue = "127.0.0.1",
      converter = Host.class,
      description =
          "Address to listen on; 0.0.0.0 or :: for every interface (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = {"-k", "--keep-open"},
      description = "After a transfer, wait for the next one instead of exiting (until Ctrl-C).")
  boolean keepOpen;

  @Option(
      names = "--resume",
      description = "Continue FILE.part from an interrupted transfer, if there is one.")
  boolean resume;

  @Option(
      names = {"-f", "--force"},
      description = "Replace FILE if it exists.")
  boolean force;

  @Option(
      names = {"-w", "--timeout"},
      paramLabel = "DURATION",
      defaultValue = "60s",
      converter = Durations.Timeout.class,
      description =
          "Longest wait for the sender's TLS handshake, header or data once connected: 500ms,"
              + " 2s, 1m"
              + " (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--json", description = "Print a summary object on stdout per transfer.")
  boolean json;

  @Option(
      names = "--tls",
      description =
          "Speak TLS: with --cert and --key, or --pkcs12; otherwise a self-signed development"
              + " certificate (its SHA-256 fingerprint goes to stderr).")
  boolean tls;

  @Mixin ServerKeyOptions serverKey;

  private Lines out;
  private Lines err;

  @Override
  public Integer call() throws IOException {
    checkOptions();
    out = Lines.stdout(spec.commandLine());
    err = new Lines(spec.commandLine().getErr()).prefixed("jsock: ");
    StderrLog.install(err);
    // -w bounds the sender's handshake too: a silent TLS sender is held no longer than a plain one
    TlsContext context = tls ? Tls.server(serverKey.load(err)).withHandshakeTimeout(timeout) : null;
    try (Socket listener = Endpoints.bind(host, port, null, null, SocketKind.SOCK_STREAM, 1)) {
      int bound = ((InetSocketAddress) listener.getSockName()).getPort();
      err.line("receiving on " + (host.contains(":") ? "[" + host + "]" : host) + ":" + bound);
      // -k lives through a failed accept (out of descriptors: EMFILE), as listen -k and echo do
      Acceptor acceptor = keepOpen ? new Acceptor(listener, err::line) : null;
      do {
        Accepted accepted = acceptor != null ? acceptor.accept() : listener.accept();
        try (Socket conn = context == null ? accepted.conn() : wrap(context, accepted.conn())) {
          conn.setTimeout(timeout);
          receive(conn);
        } catch (IOException e) {
          if (!keepOpen) {
            throw e;
          }
          err.line(e.getMessage() == null ? e.toString() : e.getMessage());
        }
      } while (keepOpen);
    }
    return ExitCode.OK.code();
  }

  private void checkOptions() {
    serverKey.check(tls);
    if (target != null && !Files.isDirectory(target)) {
      if (writtenAsDirectory()) {
        throw new ParameterException(
            spec.commandLine(),
            "FILE: no directory " + target.toAbsolutePath() + " to receive into");
      }
      Path parent = target.toAbsolutePath().getParent();
      if (parent == null || !Files.isDirectory(parent)) {
        throw new ParameterException(
            spec.commandLine(), "FILE: no directory " + parent + " to put " + target + " in");
      }
    }
  }

  /**
   * Whether FILE was written with a trailing slash ({@code incoming/}), naming a directory: the
   * path drops the slash, and would take it for a file {@code incoming} to create.
   */
  private boolean writtenAsDirectory() {
    String given =
        spec.commandLine().getParseResult().matchedPositional(1).originalStringValues().getFirst();
    return given.endsWith("/") || given.endsWith(File.separator);
  }

  private static Socket wrap(TlsContext context, Socket accepted) throws IOException {
    try {
      return context.wrap(accepted);
    } catch (IOException | RuntimeException e) {
      accepted.close();
      throw e;
    }
  }

  /** One transfer on an accepted connection, from the header to the verdict. */
  private void receive(Socket conn) throws IOException {
    DataInputStream in = new DataInputStream(conn.getInputStream());
    Header header = readHeader(in);
    Path file = refusing(conn, () -> destination(header.name()));
    Path part = file.resolveSibling(file.getFileName() + ".part");
    long offset = refusing(conn, () -> resumeOffset(part, header));
    MessageDigest digest = prefixDigest(part, offset);
    long start;
    byte[] sha256;
    // The part stays open, and locked, until it has its final name or is deleted: another receiver
    // that opens it meanwhile is refused (openPart) instead of writing into this transfer's file.
    try (FileChannel channel = refusing(conn, () -> openPart(part, offset))) {
      TransferProtocol.writeAnswer(
          conn, new Go(offset, part.getFileName().toString(), TransferProtocol.peek(digest)));
      try {
        awaitGoAhead(in, header, part, offset);
      } catch (IOException e) {
        if (offset == 0) {
          Files.deleteIfExists(part); // opened for this transfer, which brought nothing into it
        }
        throw e;
      }
      start = System.nanoTime();
      receiveData(conn, channel, part, digest, offset, header);
      try {
        channel.force(true);
      } catch (IOException e) {
        throw cannotWrite(e, channel, header.size(), header, part);
      }
      sha256 = digest.digest();
      if (!TransferProtocol.same(sha256, header.sha256())) {
        Files.deleteIfExists(part);
        TransferProtocol.writeVerdict(conn, new Verdict(false, sha256));
        throw new TransferFailedException(
            "SHA-256 mismatch: "
                + header.name()
                + " should be "
                + TransferProtocol.hex(header.sha256())
                + ", got "
                + TransferProtocol.hex(sha256)
                + "; "
                + part
                + " deleted");
      }
      place(part, file);
    }
    TransferProtocol.writeVerdict(conn, new Verdict(true, sha256));
    long nanos = System.nanoTime() - start;
    TransferSummary summary =
        new TransferSummary(
            "received",
            file.toString(),
            header.size(),
            offset,
            nanos,
            TransferProtocol.hex(sha256));
    err.line(summary.line());
    if (json) {
      out.line(summary.json());
    }
  }

  private static Header readHeader(DataInputStream in) throws IOException {
    try {
      return TransferProtocol.readHeader(in);
    } catch (EOFException e) {
      throw new TransferFailedException(
          "the peer closed the connection before sending a header (is it jsock send?)", e);
    }
  }

  /** A step that may refuse the transfer before any data: its reason goes to the sender too. */
  private interface Check<T> {
    T run() throws TransferFailedException, IOException;
  }

  private static <T> T refusing(Socket conn, Check<T> check) throws IOException {
    try {
      return check.run();
    } catch (TransferFailedException refused) {
      TransferProtocol.writeAnswer(conn, new Refused(refused.getMessage()));
      throw refused;
    }
  }

  /** How many bytes of the file the part already holds: its size with --resume, otherwise 0. */
  private long resumeOffset(Path part, Header header) throws IOException {
    long offset = resume && Files.isRegularFile(part, NOFOLLOW_LINKS) ? Files.size(part) : 0;
    if (offset > header.size()) {
      throw new TransferFailedException(
          "resume refused: "
              + part
              + " holds "
              + offset
              + " bytes, more than the "
              + header.size()
              + " of "
              + header.name());
    }
    return offset;
  }

  /** Waits for the sender's go-ahead; a failure if it found the resumed part different. */
  private static void awaitGoAhead(DataInputStream in, Header header, Path part, long offset)
      throws IOException {
    int goAhead;
    try {
      goAhead = in.readUnsignedByte();
    } catch (EOFException e) {
      throw new TransferFailedException("the sender closed the connection before any data", e);
    }
    if (goAhead == TransferProtocol.RESUME_REFUSED) {
      throw new TransferFailedException(
          "resume refused: the "
              + offset
              + " bytes already at "
              + part
              + " differ from the start of "
              + header.name()
              + " (left as they were)");
    }
    if (goAhead != TransferProtocol.DATA) {
      throw new TransferFailedException("the sender sent an unknown go-ahead: " + goAhead);
    }
  }

  /**
   * Opens the part file before answering, so that one this process cannot write is refused with its
   * reason on both sides before any data. A part is created only here, after every other refusal; a
   * resumed one ({@code offset > 0}) is opened as it is, never truncated. The part is locked: a
   * part another receiver is writing (two receivers, one directory, one name) is refused, and
   * truncated only once locked, so that its transfer's bytes stay as they are. A symbolic link in
   * the part's place is refused, never followed: it would write the sender's bytes wherever it
   * points, outside FILE's directory.
   */
  private static FileChannel openPart(Path part, long offset) throws IOException {
    if (Files.isSymbolicLink(part)) {
      throw new TransferFailedException(
          "cannot write " + part + ": it is a symbolic link (not followed)");
    }
    FileChannel channel;
    try {
      channel =
          offset == 0
              ? FileChannel.open(part, CREATE, WRITE, NOFOLLOW_LINKS)
              : FileChannel.open(part, WRITE, NOFOLLOW_LINKS);
    } catch (FileSystemException e) {
      throw new TransferFailedException("cannot write " + part + ": " + Failures.reason(e), e);
    }
    try {
      if (!lock(channel)) {
        throw new TransferFailedException(
            "cannot write " + part + ": another receiver is writing it");
      }
      if (offset == 0) {
        channel.truncate(0);
      }
      return channel;
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Whether this process now holds the lock on the whole file (released when it is closed). */
  private static boolean lock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock() != null;
    } catch (OverlappingFileLockException e) {
      return false; // held by this process already: another receiver in the same JVM
    }
  }

  /** The SHA-256 of the first {@code length} bytes of the part file, ready to take the rest. */
  private static MessageDigest prefixDigest(Path part, long length) throws IOException {
    if (length == 0) {
      return TransferProtocol.sha256();
    }
    try (FileChannel channel = FileChannel.open(part, READ, NOFOLLOW_LINKS)) {
      return TransferProtocol.sha256Of(channel, length);
    }
  }

  /** Where the sender's file goes; a refusal if its name is not a plain file name. */
  private Path destination(String name) throws TransferFailedException {
    if (!TransferProtocol.isPlainFileName(name)) {
      throw new TransferFailedException(
          "refused the file name '"
              + TransferProtocol.printable(name)
              + "' from the sender: not a plain file name (a path, '.', '..' or control"
              + " characters)");
    }
    Path file =
        target == null ? Path.of(name) : Files.isDirectory(target) ? target.resolve(name) : target;
    // a symbolic link that leads nowhere is there too, and the rename would replace it
    if (Files.exists(file, NOFOLLOW_LINKS) && !force) {
      throw new TransferFailedException(file + " exists (receive with --force to replace it)");
    }
    if (Files.isDirectory(file)) {
      throw new TransferFailedException(file + " is a directory");
    }
    return file;
  }

  /** Receives the rest of the file into {@code channel}, hashing it on the way. */
  private static void receiveData(
      Socket conn, FileChannel channel, Path part, MessageDigest digest, long offset, Header header)
      throws IOException {
    long done = offset;
    channel.position(offset);
    // freed as the transfer ends, not when a collection finds it (a receive -k's every transfer)
    try (Arena arena = Arena.ofConfined();
        TransferProgress progress =
            TransferProgress.start("receive " + header.name(), header.size(), offset)) {
      ByteBuffer buffer = arena.allocate(BUFFER).asByteBuffer();
      while (done < header.size()) {
        buffer.clear().limit((int) Math.min(BUFFER, header.size() - done));
        int n;
        try {
          n = conn.recvInto(buffer);
        } catch (SocketTimeoutException e) { // exit code 4 still
          throw (SocketTimeoutException)
              new SocketTimeoutException(e.getMessage() + kept(done, header, part)).initCause(e);
        } catch (SocketException e) { // reset, aborted
          throw new TransferFailedException(e.getMessage() + kept(done, header, part), e);
        }
        if (n == 0) {
          throw new TransferFailedException(
              "the sender closed the connection" + kept(done, header, part));
        }
        buffer.flip();
        digest.update(buffer.duplicate());
        try {
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
        } catch (IOException e) { // a full disk, a file size limit
          throw cannotWrite(e, channel, done, header, part);
        }
        done += n;
        progress.stepTo(done);
      }
    }
  }

  /**
   * A part that could not take the data (ENOSPC, EFBIG, EIO), kept for a resume once there is room:
   * its reason, and what it holds (the part's size, which counts a chunk written in part).
   */
  private static TransferFailedException cannotWrite(
      IOException e, FileChannel channel, long done, Header header, Path part) {
    long kept;
    try {
      kept = channel.size();
    } catch (IOException | RuntimeException sizeFailed) {
      kept = done;
    }
    String reason =
        e.getMessage() == null
            ? e.getClass().getSimpleName()
            : e.getMessage().toLowerCase(Locale.ROOT);
    return new TransferFailedException(
        "cannot write " + part + ": " + reason + kept(kept, header, part), e);
  }

  /** What a transfer cut short after {@code done} bytes leaves, for its message. */
  private static String kept(long done, Header header, Path part) {
    return " after "
        + done
        + " of "
        + header.size()
        + " bytes; they are kept in "
        + part
        + " (receive again with --resume to continue)";
  }

  /** Renames the verified part file to its name, in one step. */
  private void place(Path part, Path file) throws IOException {
    if (Files.exists(file, NOFOLLOW_LINKS) && !force) {
      throw new TransferFailedException(
          file + " appeared during the transfer; the data is kept in " + part);
    }
    Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
