package dev.easel.core.format.safetensors;

import dev.easel.api.PluginDescriptor;
import dev.easel.api.format.Detection;
import dev.easel.api.format.ModelFormat;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;

/**
 * The safetensors format as a {@link ModelFormat} service ({@code format/safetensors}), built into the core.
 * Detection trusts content over the name: a plausible header length followed by <code>{</code> is
 * {@link Detection#CONTENT}, a {@code .safetensors}/{@code .sft} name alone only {@link Detection#NAME}.
 */
public final class SafetensorsFormat implements ModelFormat {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of(SafetensorsReader.FORMAT_ID, "1.0.0",
            "safetensors files: strict lazy memory-mapped reader, streaming atomic writer (reference layout)");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public List<String> extensions() {
        return List.of("safetensors", "sft");
    }

    @Override
    public Detection detect(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            return Detection.NO;
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean nameFits = extensions().stream().anyMatch(e -> name.endsWith("." + e));
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long length = channel.size();
            if (length >= 10) {
                ByteBuffer head = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
                while (head.hasRemaining() && channel.read(head, head.position()) >= 0) {
                    // positional reads until the 9 bytes are in
                }
                long headerSize = head.getLong(0);
                if (headerSize >= 2 && headerSize <= SafetensorsHeader.MAX_HEADER_SIZE
                        && 8 + headerSize <= length && head.get(8) == '{') {
                    return Detection.CONTENT;
                }
            }
        }
        return nameFits ? Detection.NAME : Detection.NO;
    }

    @Override
    public TensorSource open(Path path) throws IOException {
        return SafetensorsReader.open(path);
    }

    @Override
    public boolean canWrite() {
        return true;
    }

    @Override
    public TensorSink create(Path target, WritePlan plan) throws IOException {
        return SafetensorsWriter.create(target, plan);
    }
}
