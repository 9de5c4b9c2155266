package dev.easel.plugins.train.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.cli.EaselCli;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.runtime.ComputeRuntime;
import dev.easel.core.sd.model.ModelConfigs;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.synth.SyntheticDataset;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code easel train} with {@code method = "finetune/full"}, as kohya's fine_tune.py config, end to end. */
class FullFinetuneCliTest {
    static final ComputeRuntime RUNTIME = new ComputeRuntime().start();

    @TempDir
    Path dir;

    String stderr;
    String stdout;

    int easel(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = EaselCli.run(new PrintWriter(out), new PrintWriter(err), args);
        stdout = out.toString();
        stderr = err.toString();
        return rc;
    }

    Path train(Path model, boolean textEncoder, String precision) throws Exception {
        Path data = dir.resolve("data/1_shapes");
        if (!Files.isDirectory(data)) {
            SyntheticDataset.base().write(data, 4, 3, 64);
        }
        Path out = dir.resolve("out-" + textEncoder + "-" + precision);
        String toml = """
                method = "finetune/full"
                pretrained_model_name_or_path = "%s"
                train_data_dir = "%s"
                resolution = 64
                caption_extension = ".txt"
                cache_latents = true
                latent_cache_dir = "%s"
                output_dir = "%s"
                output_name = "tuned"
                save_precision = "%s"
                train_batch_size = 2
                max_train_steps = 2
                learning_rate = 1e-3
                train_text_encoder = %s
                seed = 1
                save_state = false
                """.formatted(model, data.getParent(), dir.resolve("cache"), out, precision, textEncoder);
        Path config = dir.resolve("ft-" + textEncoder + ".toml");
        Files.writeString(config, toml);
        assertEquals(0, easel("train", config.toString(), "-q"), stderr);
        return out.resolve("tuned.safetensors");
    }

    @Test
    void trainsTheUnetAndTextEncoderAndWritesAWholeCheckpointThatLoads() throws Exception {
        Path model = RandomModels.write("tiny", 5, dir.resolve("base.safetensors")).model();
        Path tuned = train(model, true, "fp16");
        assertTrue(Files.isRegularFile(tuned.resolveSibling("tuned.json")), "config beside the checkpoint");
        try (SafetensorsReader base = SafetensorsReader.open(model);
             SafetensorsReader out = SafetensorsReader.open(tuned)) {
            assertEquals(base.tensors().size(), out.tensors().size());
            assertTrue(out.metadata().containsKey(ModelConfigs.METADATA_KEY), out.metadata().toString());
            assertEquals("stable-diffusion-v1", out.metadata().get("modelspec.architecture"));
            boolean unetChanged = false;
            boolean textChanged = false;
            for (TensorInfo t : base.tensors()) {
                TensorInfo o = out.info(t.name()).orElseThrow(() -> new AssertionError("missing " + t.name()));
                assertArrayEquals(t.shape(), o.shape(), t.name());
                if (t.dtype() == DType.I64) {
                    assertEquals(base.read(t.name()), out.read(t.name()), t.name());
                    continue;
                }
                assertEquals(DType.F16, o.dtype(), t.name());
                boolean same = sameAsHalf(base.read(t.name()), out.read(t.name()));
                if (t.name().startsWith("first_stage_model.")) {
                    assertTrue(same, "the VAE does not train: " + t.name());
                } else if (!same && t.name().startsWith("model.diffusion_model.")) {
                    unetChanged = true;
                } else if (!same && t.name().startsWith("cond_stage_model.")) {
                    textChanged = true;
                }
            }
            assertTrue(unetChanged, "no UNet weight changed");
            assertTrue(textChanged, "no text encoder weight changed");
        }
        // loads with its config found in its own metadata (the .json beside it removed)
        Files.delete(tuned.resolveSibling("tuned.json"));
        try (NDManager m = RUNTIME.newManager();
             SafetensorsReader src = SafetensorsReader.open(tuned)) {
            SdModel loaded = SdModel.open(src, tuned, null, m);
            assertEquals(32, loaded.config().unet().modelChannels());
            loaded.close();
        }
        assertEquals(0, easel("sample", "--model", tuned.toString(), "--prompt", "a red circle on a blue background",
                "--steps", "2", "--sampler", "ddim", "--width", "64", "--height", "64", "-q", "--out",
                dir.resolve("s.png").toString()), stderr);
    }

    @Test
    void withoutTrainTextEncoderOnlyTheUnetChanges() throws Exception {
        Path model = RandomModels.write("tiny", 6, dir.resolve("base.safetensors")).model();
        Path tuned = train(model, false, "float");
        try (SafetensorsReader base = SafetensorsReader.open(model);
             SafetensorsReader out = SafetensorsReader.open(tuned)) {
            Set<String> changed = new java.util.TreeSet<>();
            for (TensorInfo t : base.tensors()) {
                if (!base.read(t.name()).equals(out.read(t.name()))) {
                    changed.add(t.name());
                }
            }
            assertFalse(changed.isEmpty());
            assertTrue(changed.stream().allMatch(n -> n.startsWith("model.diffusion_model.")), changed.toString());
        }
    }

    /** Whether an F16 tensor holds the F32 values rounded to half precision. */
    private static boolean sameAsHalf(ByteBuffer f32, ByteBuffer f16) {
        ByteBuffer a = f32.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        ByteBuffer b = f16.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        while (a.hasRemaining()) {
            float x = a.getFloat();
            float h = halfToFloat(b.getShort());
            // within one rounding to half precision (11 significant bits), or the subnormal range
            if (Math.abs(x - h) > Math.abs(x) * 0x1p-11 + 0x1p-24) {
                return false;
            }
        }
        return true;
    }

    private static float halfToFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float f = mant * 0x1p-24f;
            return sign == 0 ? f : -f;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
