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
    NettyTransport transport = NettyTransport.of(options.text("--transport", "epoll"));
    int threads = options.number("--threads", Runtime.getRuntime().availableProcessors());
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, transport.ioHandlerFactory());
    try {
      InetSocketAddress address = new InetSocketAddress(host, options.number("--port", 12345));
      Channel channel =
          options.flag("--udp")
              ? bindUdp(group, transport, address)
              : bindTcp(group, transport, address);
      int port = ((InetSocketAddress) channel.localAddress()).getPort();
      System.out.println(
          "Echo server listening on "
              + (host.contains(":") ? "[" + host + "]" : host)
              + ":"
              + port);
      System.out.flush();
      channel.closeFuture().sync();
    } finally {
      group.shutdownGracefully();
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
