package dev.easel.core.format.pytorch;

import dev.easel.api.PluginDescriptor;
import dev.easel.api.format.Detection;
import dev.easel.api.format.ModelFormat;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;

/**
 * PyTorch checkpoints ({@code format/pytorch}): {@code .ckpt}, {@code .pt}, {@code .pth}, {@code .bin} written by
 * {@code torch.save}, zip or legacy, read by a restricted unpickler that never runs code; written as torch zip
 * files. Detection trusts content: a zip holding {@code data.pkl}, or a pickle opening with torch's legacy magic
 * number.
 */
public final class PyTorchFormat implements ModelFormat {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of(TorchCheckpointReader.FORMAT_ID, "1.0.0",
            "PyTorch checkpoints (.ckpt/.pt/.bin, zip and legacy): restricted unpickler, lazy mapped tensors; "
                    + "torch-loadable writer");
    /** PROTO 2, LONG1 of 10 bytes: how a legacy torch.save file begins (the magic number follows). */
    private static final byte[] LEGACY_START = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c,
        0x46, (byte) 0xf9, 0x20, 0x6a, (byte) 0xa8, 0x50, 0x19};

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public List<String> extensions() {
        return List.of("ckpt", "pt", "pth", "bin");
    }

    @Override
    public Detection detect(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            return Detection.NO;
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean nameFits = extensions().stream().anyMatch(e -> name.endsWith("." + e));
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            if (channel.size() >= LEGACY_START.length) {
                ByteBuffer head = ZipDirectory.readAt(channel, 0, LEGACY_START.length);
                if (head.getInt(0) == 0x04034b50) {
                    try {
                        ZipDirectory zip = ZipDirectory.read(path, channel);
                        if (zip.entries().keySet().stream().anyMatch(n -> n.equals("data.pkl") || n.endsWith("/data.pkl"))) {
                            return Detection.CONTENT;
                        }
                    } catch (IOException e) {
                        return nameFits ? Detection.NAME : Detection.NO;
                    }
                } else if (head.equals(ByteBuffer.wrap(LEGACY_START))) {
                    return Detection.CONTENT;
                }
            }
        }
        return nameFits ? Detection.NAME : Detection.NO;
    }

    @Override
    public TensorSource open(Path path) throws IOException {
        return TorchCheckpointReader.open(path);
    }

    @Override
    public boolean canWrite() {
        return true;
    }

    @Override
    public TensorSink create(Path target, WritePlan plan) throws IOException {
        return TorchCheckpointWriter.create(target, plan);
    }
}
