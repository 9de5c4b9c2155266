package dev.easel.core.format.pytorch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.format.Detection;
import dev.easel.api.format.ModelFormatException;
import dev.easel.core.format.ModelFormats;
import dev.easel.core.format.safetensors.SafetensorsFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-made pickles that try to run code, exhaust memory or the stack, or lie about sizes. */
class HostilePickleTest {
    @TempDir
    Path dir;

    private static Object load(byte[] bytes) throws PickleException {
        return RestrictedUnpickler.load(ByteBuffer.wrap(bytes), pid -> {
            throw new PickleException("no persistent ids here");
        });
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    /** A torch zip whose data.pkl is {@code pkl} and which has the given extra storage records. */
    private Path zip(String name, byte[] pkl, byte[]... storages) throws IOException {
        Path file = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            TorchZipWriter zip = new TorchZipWriter(ch);
            zip.add("x/data.pkl", ByteBuffer.wrap(pkl));
            for (int i = 0; i < storages.length; i++) {
                zip.add("x/data/" + i, ByteBuffer.wrap(storages[i]));
            }
            zip.add("x/version", ByteBuffer.wrap("3\n".getBytes(StandardCharsets.US_ASCII)));
            zip.finish();
        }
        return file;
    }

    @Test
    void protocol4StackGlobalIsRefusedByName() {
        // PROTO 4, SHORT_BINUNICODE "os", SHORT_BINUNICODE "system", STACK_GLOBAL, ...
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(bytes(0x80, 4, 0x8c, 2));
        b.writeBytes("os".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(bytes(0x8c, 6));
        b.writeBytes("system".getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(bytes(0x93, 0x8c, 2, 'l', 's', 0x85, 'R', '.'));
        PickleException e = assertThrows(PickleException.class, () -> load(b.toByteArray()));
        assertTrue(e.getMessage().contains("'os.system'"), e.getMessage());
    }

    @Test
    void aliasesRealFilesUse() throws PickleException {
        assertTrue(load("ctyping\nOrderedDict\n)R.".getBytes(StandardCharsets.US_ASCII)) instanceof java.util.Map);
        assertEquals(new PyGlobal("pytorch_lightning.callbacks", "model_checkpoint"),
                load("cpytorch_lightning.callbacks\nmodel_checkpoint\n.".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(java.util.Set.of(1L), load("c__builtin__\nset\n]K\u0001a\u0085R.".getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void codeRunningOpcodesAreRefused() {
        assertTrue(assertThrows(PickleException.class, () -> load("(S'ls'\nios\nsystem\n.".getBytes(StandardCharsets.US_ASCII)))
                .getMessage().contains("INST"));
        // REDUCE of something that is not an allowed callable (a string).
        assertThrows(PickleException.class, () -> load(bytes(0x80, 2, 'X', 1, 0, 0, 0, 'a', ')', 'R', '.')));
        // An allowed data marker (a storage class) is not callable either.
        assertThrows(PickleException.class, () -> load("ctorch\nFloatStorage\n)R.".getBytes(StandardCharsets.US_ASCII)));
        // copyreg extension registry.
        assertThrows(PickleException.class, () -> load(bytes(0x80, 2, 0x82, 1, '.')));
    }

    @Test
    void lyingLengthsAreCheckedBeforeAllocating() {
        // BINUNICODE claiming 4 GB, BINBYTES8 claiming 2^62 bytes, LONG4 claiming 2 GB: all with a few bytes left.
        PickleException e = assertThrows(PickleException.class, () -> load(bytes(0x80, 2, 'X', 0xf0, 0xff, 0xff, 0xff, 'a', '.')));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertThrows(PickleException.class, () -> load(bytes(0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40, '.')));
        assertThrows(PickleException.class, () -> load(bytes(0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0x7f, '.')));
        // Memo index 2^32-1 is looked up in a map, never used to size an array.
        assertThrows(PickleException.class, () -> load(bytes(0x80, 2, 'j', 0xff, 0xff, 0xff, 0xff, '.')));
        assertThrows(PickleException.class, () -> load(bytes(0x80, 2, '.')));
        assertThrows(PickleException.class, () -> load(bytes(0x80, 2, ']')));
    }

    @Test
    void selfReferenceAndDeepNestingFailCleanly() throws IOException {
        // [x] where x is the list itself: EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP
        Path cyclic = zip("cyclic.pt", bytes(0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpointReader.open(cyclic));
        assertTrue(e.getMessage().contains("nests more than"), e.getMessage());
        // A dict keyed by a tuple nested 200,000 deep.
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(bytes(0x80, 2, '}', 'N'));
        for (int i = 0; i < 200_000; i++) {
            b.write(0x85);
        }
        b.writeBytes(bytes('N', 's', '.'));
        Path deep = zip("deep.pt", b.toByteArray());
        e = assertThrows(ModelFormatException.class, () -> TorchCheckpointReader.open(deep));
        assertTrue(e.getMessage().startsWith(deep + ": "), e.getMessage());
    }

    @Test
    void storageAndViewSizesAreCheckedAgainstTheFile() throws IOException {
        // {'w': _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', NUMEL), OFFSET, (4,), (1,), False, OD())}
        for (long[] c : new long[][] {{1_000_000, 0}, {4, 1}}) {
            TorchPickler p = new TorchPickler();
            byte[] pkl = p.pickle(java.util.Map.of("w", new TorchCheckpointWriter.Tensor(dev.easel.api.tensor.DType.F32,
                    new long[] {4}, ByteBuffer.allocate(16))));
            String text = new String(pkl, StandardCharsets.ISO_8859_1);
            // Patch the claimed numel (K 4 -> J 1000000) or the offset (K 0 -> K 1) in the pickle.
            String patched = c[0] != 4 ? text.replace("X\u0003\u0000\u0000\u0000cpuK\u0004",
                    "X\u0003\u0000\u0000\u0000cpuJ\u0040\u0042\u000f\u0000")
                    : text.replace("QK\u0000", "QK\u0001");
            assertTrue(!patched.equals(text));
            Path file = zip("lie" + c[0] + ".pt", patched.getBytes(StandardCharsets.ISO_8859_1), new byte[16]);
            ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchCheckpointReader.open(file));
            assertTrue(e.getMessage().contains("storage 0") || e.getMessage().contains("needs 5 elements"),
                    e.getMessage());
        }
    }

    @Test
    void detectionTrustsContentOverNames() throws IOException {
        Path zipped = dir.resolve("model.safetensors");
        Files.copy(getClass().getResourceAsStream("/formats/pytorch/dtypes.pt"), zipped);
        Path legacy = dir.resolve("legacy.bin");
        Files.copy(getClass().getResourceAsStream("/formats/pytorch/dtypes-legacy.pt"), legacy);
        Path plain = dir.resolve("plain.pt");
        Files.copy(getClass().getResourceAsStream("/formats/pytorch/malicious-plain-pickle.pkl"), plain);
        PyTorchFormat torch = new PyTorchFormat();
        assertEquals(Detection.CONTENT, torch.detect(zipped));
        assertEquals(Detection.CONTENT, torch.detect(legacy));
        assertEquals(Detection.NAME, torch.detect(plain));
        var formats = List.of(new SafetensorsFormat(), torch);
        assertEquals("format/pytorch", ModelFormats.forReading(formats, zipped).descriptor().id());
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFormats.open(formats, plain));
        assertTrue(e.getMessage().contains("refusing global") || e.getMessage().contains("not a torch.save"), e.getMessage());
    }
}
