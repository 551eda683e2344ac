package io.jsock.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The Netty echo server jsock is measured against, tuned as Netty's own examples and benchmarks
 * are: pooled direct buffers, TCP_NODELAY, the canonical handler (write on read, flush when the
 * read burst ends), one event loop per available CPU (one under {@code taskset -c 0}).
 *
 * <pre>
 * java --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED \
 *     -jar bench/target/jsock-bench-peers.jar --transport epoll --host 127.0.0.1 --port 0 [--udp]
 * </pre>
 *
 * Prints {@code Echo server listening on HOST:PORT} once it listens, as {@code jsock echo} does.
 */
public final class NettyEchoServer {
  private NettyEchoServer() {}

  public static void main(String[] args) throws InterruptedException {
    PeerOptions options =
        PeerOptions.parse(
            "NettyEchoServer",
            args,
            Set.of("--host", "--port", "--transport", "--threads"),
            Set.of("--udp"));
    String host = options.text("--host", "localhost");
    try (Running echo =
        start(
            NettyTransport.of(options.text("--transport", "epoll")),
            new InetSocketAddress(host, options.number("--port", 12345)),
            options.flag("--udp"),
            options.number("--threads", Runtime.getRuntime().availableProcessors()))) {
      PeerOptions.announceListening(host, echo.port());
      echo.channel().closeFuture().sync();
    }
  }

  /** A Netty echo server that listens; closing it closes the channel and its event loops. */
  record Running(Channel channel, EventLoopGroup group) implements AutoCloseable {
    int port() {
      return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
      channel.close().syncUninterruptibly();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** Starts an echo server on {@code address} with {@code threads} event loops. */
  static Running start(
      NettyTransport transport, InetSocketAddress address, boolean udp, int threads)
      throws InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory());
    try {
      Channel channel =
          udp ? bindUdp(group, transport, address) : bindTcp(group, transport, address);
      return new Running(channel, group);
    } catch (InterruptedException | RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw e;
    }
  }

  private static Channel bindTcp(
      EventLoopGroup group, NettyTransport transport, InetSocketAddress address)
      throws InterruptedException {
    return new ServerBootstrap()
        .group(group)
        .channel(transport.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .childHandler(new TcpEcho())
        .bind(address)
        .sync()
        .channel();
  }

  private static Channel bindUdp(
      EventLoopGroup group, NettyTransport transport, InetSocketAddress address)
      throws InterruptedException {
    return new Bootstrap()
        .group(group)
        .channel(transport.datagramChannel())
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .handler(new UdpEcho())
        .bind(address)
        .sync()
        .channel();
  }

  /** The canonical Netty echo: write what was read, flush once the read burst is over. */
  @Sharable
  static final class TcpEcho extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ctx.write(msg, ctx.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** Each datagram goes back to its sender. */
  @Sharable
  static final class UdpEcho extends SimpleChannelInboundHandler<DatagramPacket> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
      ctx.write(new DatagramPacket(packet.content().retain(), packet.sender()), ctx.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }
  }
}
