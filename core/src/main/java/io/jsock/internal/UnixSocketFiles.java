package io.jsock.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.stream.Stream;

/** AF_UNIX socket files left behind by listeners that are gone, and how to tell them apart. */
public final class UnixSocketFiles {
  /** The kernel's table of this network namespace's AF_UNIX sockets, with the paths they hold. */
  private static final Path SOCKET_TABLE = Path.of("/proc/net/unix");

  /** How the JDK encodes file names for the kernel. */
  private static final Charset PATH_CHARSET =
      Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"), StandardCharsets.UTF_8);

  private UnixSocketFiles() {}

  /**
   * Removes the socket file at {@code address} if nothing listens on it any more, and says whether
   * it did. A socket file that a socket in the kernel's table still holds is in use; one whose
   * connection attempt is refused is stale. The table is read first so that a live listener is not
   * sent a connection to find that out (it would accept it as a client); where the table does not
   * name the path (another system, a relative path bound elsewhere) the attempt decides. A symbolic
   * link is never removed, whatever it points to: the kernel's bind never follows it.
   */
  public static boolean removeIfStale(UnixDomainSocketAddress address) {
    Path path = address.getPath();
    try {
      PosixFileAttributes found =
          Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (!found.isOther()) {
        return false; // a regular file, a directory or a link is never ours to remove
      }
      if (isHeld(path)) {
        return false;
      }
      try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        probe.configureBlocking(false); // a full backlog must not block the probe
        probe.connect(address);
        return false; // somebody listens there (or is about to accept): the address is in use
      } catch (ConnectException refused) {
        // only the file found refused: one another program put there since is left alone (the
        // window between this look and the removal remains; the kernel has no unlink-if-same)
        Object key = found.fileKey();
        return (key == null || key.equals(identity(path))) && Files.deleteIfExists(path);
      }
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  /**
   * The identity (device and inode) of the file at {@code path} as {@code stat(2)} gives it, no
   * links followed: tells the socket file a bind made from one another program put at the same path
   * later. Null if nothing is there, or where the file system gives no identities; null for the
   * empty path too, Linux's autobind, which names no file (as a file path it would be the working
   * directory, whose identity a failed connect's fresh channel took for its own socket file's, and
   * tried to delete).
   */
  public static Object identity(Path path) throws IOException {
    if (path.toString().isEmpty()) {
      return null;
    }
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
          .fileKey();
    } catch (NoSuchFileException gone) {
      return null;
    }
  }

  /**
   * Whether a socket in the kernel's table holds {@code path}. The table holds the paths' bytes as
   * bound, in any encoding (and abstract names, any bytes at all): it is read one byte a character,
   * and the path is compared as the JDK's bytes for it. A socket may have bound the file under
   * another name (through a linked directory, as {@code /var/run} for {@code /run}): a path in the
   * table with the same file name holds it if it names the same file (device and inode), and a
   * relative one, bound in a working directory unknown here, is taken to hold it.
   */
  static boolean isHeld(Path path) throws IOException {
    if (!Files.isReadable(SOCKET_TABLE)) {
      return false;
    }
    String given = asTableText(path.toString());
    String absolute = asTableText(path.toAbsolutePath().normalize().toString());
    Path fileName = path.getFileName();
    String name = fileName == null ? null : asTableText(fileName.toString());
    Object identity = null;
    try (Stream<String> lines = Files.lines(SOCKET_TABLE, StandardCharsets.ISO_8859_1)) {
      // "Num RefCount Protocol Flags Type St Inode Path": the path, when bound, comes last
      for (String line : (Iterable<String>) lines.skip(1)::iterator) {
        String[] fields = line.strip().split("\\s+", 8);
        if (fields.length != 8) {
          continue;
        }
        String held = fields[7];
        if (held.equals(given) || held.equals(absolute)) {
          return true;
        }
        if (name == null
            || held.startsWith("@") // an abstract name
            || !(held.equals(name) || held.endsWith("/" + name))) {
          continue;
        }
        if (!held.startsWith("/")) {
          return true; // relative to another process's working directory: it may be this file
        }
        if (identity == null && (identity = identity(path)) == null) {
          return false; // nothing at the path any more
        }
        if (identity.equals(tableIdentity(held))) {
          return true;
        }
      }
    }
    return false;
  }

  /** The identity of the file at a path the kernel's table shows; null if it cannot be told. */
  private static Object tableIdentity(String held) {
    try {
      return identity(
          Path.of(new String(held.getBytes(StandardCharsets.ISO_8859_1), PATH_CHARSET)));
    } catch (IOException | InvalidPathException e) {
      return null;
    }
  }

  /** The bytes the JDK gives the kernel for {@code path}. */
  public static byte[] pathBytes(Path path) {
    return path.toString().getBytes(PATH_CHARSET);
  }

  /** A path as the kernel's table shows it, read one byte a character. */
  private static String asTableText(String path) {
    return new String(path.getBytes(PATH_CHARSET), StandardCharsets.ISO_8859_1);
  }
}
