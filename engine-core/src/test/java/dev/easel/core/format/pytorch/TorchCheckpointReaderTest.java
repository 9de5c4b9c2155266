package dev.easel.core.format.pytorch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Reads real {@code torch.save} files (made by make_torch_fixtures.py) and checks them against torch's view. */
class TorchCheckpointReaderTest {
    @TempDir
    Path dir;

    static Path fixture(String name, Path dir) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = TorchCheckpointReaderTest.class.getResourceAsStream("/formats/pytorch/" + name)) {
            if (in == null) {
                throw new IOException("missing fixture " + name);
            }
            Files.copy(in, target);
        }
        return target;
    }

    static JsonNode expected() throws IOException {
        try (InputStream in = TorchCheckpointReaderTest.class.getResourceAsStream("/formats/pytorch/expected.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"dtypes.pt", "dtypes-legacy.pt", "views.pt", "views-legacy.pt", "nested.pt",
        "lightning.ckpt", "sd-lightning.ckpt", "a1111-embedding.pt", "a1111-hypernetwork.pt", "ti-parameterdict.pt"})
    void readsWhatTorchReads(String name) throws IOException {
        JsonNode want = expected().get(name);
        try (TorchCheckpointReader r = TorchCheckpointReader.open(fixture(name, dir))) {
            List<String> names = new ArrayList<>();
            Iterator<String> it = want.fieldNames();
            it.forEachRemaining(names::add);
            assertEquals(names.stream().sorted().toList(),
                    r.tensors().stream().map(TensorInfo::name).sorted().toList(), name);
            for (String n : names) {
                JsonNode t = want.get(n);
                TensorInfo info = r.info(n).orElseThrow();
                assertEquals(DType.valueOf(t.get("dtype").asText()), info.dtype(), n);
                long[] shape = new long[t.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = t.get("shape").get(i).asLong();
                }
                assertArrayEquals(shape, info.shape(), n);
                ByteBuffer data = r.read(n);
                byte[] got = new byte[data.remaining()];
                data.get(got);
                assertEquals(t.get("hex").asText(), HexFormat.of().formatHex(got), name + " " + n);
            }
        }
    }

    @Test
    void unwrapsLightningStateDictAndKeepsScalarsAsMetadata() throws IOException {
        try (TorchCheckpointReader r = TorchCheckpointReader.open(fixture("sd-lightning.ckpt", dir))) {
            assertEquals("840000", r.metadata().get("global_step"));
            assertTrue(r.contains("model.diffusion_model.out.2.bias"));
            Map<?, ?> root = (Map<?, ?>) r.root();
            assertInstanceOf(PyObject.class, root.get("cb"));
            assertEquals("ModelCheckpoint", ((PyObject) root.get("cb")).type().name());
        }
        try (TorchCheckpointReader r = TorchCheckpointReader.open(fixture("a1111-embedding.pt", dir))) {
            assertEquals("my-style", r.metadata().get("name"));
            assertEquals("1500", r.metadata().get("step"));
        }
        try (TorchCheckpointReader r = TorchCheckpointReader.open(fixture("a1111-hypernetwork.pt", dir))) {
            assertEquals("[1.0, 2.0, 1.0]", r.metadata().get("layer_structure"));
            assertTrue(r.contains("8.0.linear.0.weight"));
            assertTrue(r.contains("4.1.linear.2.bias"));
        }
    }

    @Test
    void viewsShareOneStorage() throws IOException {
        try (TorchCheckpointReader r = TorchCheckpointReader.open(fixture("views.pt", dir))) {
            Map<String, TorchTensor> t = r.torchTensors();
            assertTrue(t.get("row").storage() == t.get("base").storage());
            assertFalse(t.get("col").isContiguous());
            assertEquals(0, t.get("expand").stride()[0]);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"malicious-os-system.pt", "malicious-eval.pt", "malicious-exec.pt",
        "malicious-subprocess.pt", "malicious-legacy.pt", "malicious-plain-pickle.pkl"})
    void refusesCodeAndNamesTheGlobal(String name) throws IOException {
        Path file = fixture(name, dir);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpointReader.open(file));
        assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("refusing global")
                || e.getMessage().contains("not a torch.save checkpoint"), e.getMessage());
        for (String marker : List.of("os-system", "eval", "exec", "subprocess", "plain")) {
            assertFalse(Files.exists(Path.of("/tmp/easel-pickle-ran-" + marker)), "payload ran: " + marker);
        }
    }

    @Test
    void refusalNamesTheExactGlobal() throws IOException {
        Path file = fixture("malicious-os-system.pt", dir);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpointReader.open(file));
        assertTrue(e.getMessage().contains("'posix.system'"), e.getMessage());
        Path eval = fixture("malicious-eval.pt", dir);
        e = assertThrows(ModelFormatException.class, () -> TorchCheckpointReader.open(eval));
        assertTrue(e.getMessage().contains("'__builtin__.eval'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"dtypes.pt", "dtypes-legacy.pt", "lightning.ckpt"})
    void truncatedFilesFailWithOneLine(String name) throws IOException {
        byte[] whole = Files.readAllBytes(fixture(name, dir));
        for (int cut : new int[] {0, 3, 40, whole.length / 3, whole.length / 2, whole.length - 30, whole.length - 1}) {
            Path file = dir.resolve("cut-" + cut + "-" + name);
            Files.write(file, java.util.Arrays.copyOf(whole, cut));
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> TorchCheckpointReader.open(file).close(), "cut at " + cut);
            assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void corruptBytesNeverCrashOrHang() throws IOException {
        byte[] whole = Files.readAllBytes(fixture("dtypes.pt", dir));
        java.util.Random random = new java.util.Random(7);
        for (int round = 0; round < 200; round++) {
            byte[] copy = whole.clone();
            for (int k = 0; k < 4; k++) {
                copy[random.nextInt(copy.length)] = (byte) random.nextInt(256);
            }
            Path file = dir.resolve("corrupt.pt");
            Files.write(file, copy);
            try (TorchCheckpointReader r = TorchCheckpointReader.open(file)) {
                for (TensorInfo t : r.tensors()) {
                    r.read(t.name());
                }
            } catch (ModelFormatException e) {
                assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
            }
        }
    }
}
