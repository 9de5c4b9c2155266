package dev.easel.cli;

import dev.easel.api.tensor.DType;
import dev.easel.core.convert.ModelConverter;
import dev.easel.core.model.SdLayout;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code easel convert}: any readable model to safetensors (or a .ckpt/.pt) or a diffusers folder, streaming with
 * flat memory; the output appears only when complete.
 */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Converts a model to a safetensors file or a diffusers folder (an OUT without extension).",
            "  easel convert v1-5-pruned.ckpt v1-5.safetensors --dtype fp16 --prune-ema",
            "  easel convert model.safetensors model-diffusers --layout diffusers",
            "  easel convert model-diffusers model.safetensors --layout ldm",
            "  easel convert model.safetensors baked.safetensors --vae vae-ft-mse-840000-ema-pruned.safetensors",
            "Reads with the built-in formats (no engine start); --plugins DIR also loads format plugins from bundles."})
public final class ConvertCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Option(names = "--dtype", paramLabel = "TYPE",
            description = "Float type of floating tensors: fp32, fp16 or bf16 (round to nearest even, like torch).")
    String dtype;

    @ArgGroup(exclusive = true)
    Ema ema;

    static final class Ema {
        @Option(names = "--prune-ema", description = "Drop the EMA weights (model_ema.*).")
        boolean prune;

        @Option(names = "--use-ema", description = "Use the EMA weights as the UNet's, then drop them.")
        boolean use;
    }

    @Option(names = "--layout", paramLabel = "ldm|diffusers",
            description = "Key layout of the output (default: the input's; diffusers for a folder output).")
    String layout;

    @Option(names = "--vae", paramLabel = "FILE",
            description = "Bake in this VAE: every first_stage_model.* tensor comes from FILE, a standalone ldm VAE "
                    + "(.safetensors/.ckpt/.pt) or another ldm checkpoint, shape for shape.")
    Path vae;

    @Parameters(index = "0", paramLabel = "IN", description = "A .safetensors, .ckpt/.pt/.bin file or a diffusers folder.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "A .safetensors (or .ckpt/.pt) file, or a folder.")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        DType type = dtype == null ? null : DType.parse(dtype);
        ModelConverter.EmaMode mode = ema == null ? ModelConverter.EmaMode.KEEP
                : ema.use ? ModelConverter.EmaMode.USE : ModelConverter.EmaMode.PRUNE;
        ModelConverter.Options options = new ModelConverter.Options(type, mode,
                layout == null ? null : SdLayout.parse(layout), vae);
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        long start = System.nanoTime();
        try (FormatSet formats = FormatSet.of(engine)) {
            ModelConverter.Result r = ModelConverter.convert(formats.formats(), in, out, options,
                    w -> {
                        err.println("easel: warning: " + w);
                        err.flush();
                    });
            String what = r.input().family() == dev.easel.core.model.SdFamily.UNKNOWN ? ""
                    : " of an " + r.input().family().id() + " model";
            stdout.printf("wrote %s: %d tensors%s%s%s in %.1f s%n", r.output(), r.tensors(), what,
                    vae == null ? "" : " with the VAE of " + vae.getFileName(),
                    type == null ? "" : " as " + type.name(), (System.nanoTime() - start) / 1e9);
            stdout.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
