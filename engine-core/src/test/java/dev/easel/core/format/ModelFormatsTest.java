package dev.easel.core.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.PluginDescriptor;
import dev.easel.api.format.Detection;
import dev.easel.api.format.ModelFormat;
import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.TensorSource;
import dev.easel.core.format.safetensors.SafetensorsFormat;
import dev.easel.core.plugin.ClasspathPlugins;
import dev.easel.core.plugin.PluginRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFormatsTest {
    @TempDir
    Path dir;

    /** A format that always answers the same. */
    private static ModelFormat fixed(String id, Detection answer) {
        return new ModelFormat() {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(id, "1.0.0", "test");
            }

            @Override
            public List<String> extensions() {
                return List.of("ckpt");
            }

            @Override
            public Detection detect(Path path) {
                return answer;
            }

            @Override
            public TensorSource open(Path path) {
                throw new UnsupportedOperationException();
            }
        };
    }

    private Path safetensorsNamed(String name) throws Exception {
        byte[] header = "{}      ".getBytes();
        ByteBuffer b = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        Path file = dir.resolve(name);
        Files.write(file, b.array());
        return file;
    }

    @Test
    void contentBeatsName() throws Exception {
        Path file = safetensorsNamed("model.ckpt");
        ModelFormat picked = ModelFormats.forReading(
                List.of(fixed("format/pickle", Detection.NAME), new SafetensorsFormat()), file);
        assertEquals("format/safetensors", picked.descriptor().id());
    }

    @Test
    void nameIsEnoughWhenNothingRecognisesTheContent() throws Exception {
        Path file = dir.resolve("broken.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertEquals("format/safetensors",
                ModelFormats.forReading(List.of(new SafetensorsFormat()), file).descriptor().id());
    }

    @Test
    void tieIsAnError() throws Exception {
        Path file = safetensorsNamed("model.safetensors");
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFormats.forReading(
                List.of(fixed("format/other", Detection.CONTENT), new SafetensorsFormat()), file));
        assertTrue(e.getMessage().contains("ambiguous: format/other and format/safetensors"), e.getMessage());
    }

    @Test
    void unknownAndMissingFilesAreErrorsNamingTheFile() throws Exception {
        Path file = dir.resolve("notes.txt");
        Files.writeString(file, "hello");
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> ModelFormats.forReading(List.of(new SafetensorsFormat()), file));
        assertTrue(e.getMessage().startsWith(file + ": is not in a known model format"), e.getMessage());
        Path missing = dir.resolve("missing.safetensors");
        e = assertThrows(ModelFormatException.class,
                () -> ModelFormats.forReading(List.of(new SafetensorsFormat()), missing));
        assertTrue(e.getMessage().endsWith("no such file or folder"));
    }

    @Test
    void safetensorsIsACoreBuiltIn() throws Exception {
        PluginRegistry registry = new PluginRegistry();
        ClasspathPlugins.loadBuiltIns(registry, ModelFormats.class.getClassLoader());
        assertTrue(ModelFormats.installed(registry).stream()
                .anyMatch(f -> f.descriptor().id().equals("format/safetensors")));
        Path file = safetensorsNamed("x.bin");
        try (TensorSource s = ModelFormats.open(registry, file)) {
            assertEquals("format/safetensors", s.formatId());
        }
        assertEquals("format/safetensors", ModelFormats.forWriting(ModelFormats.installed(registry),
                dir.resolve("out.safetensors")).descriptor().id());
        assertThrows(ModelFormatException.class, () -> ModelFormats.forWriting(ModelFormats.installed(registry),
                dir.resolve("out.xyz")));
    }
}
