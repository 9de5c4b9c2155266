package dev.easel.cli;

import dev.easel.api.tensor.DType;
import dev.easel.core.Easel;
import dev.easel.core.adapter.LoraConverter;
import dev.easel.core.merge.FormatModelIo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code easel lora convert}: kohya and PEFT/diffusers layouts. */
@Command(name = "convert", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Converts a LoRA between kohya's layout (A1111, ComfyUI, kohya's tools) and PEFT/diffusers'.",
            "  easel lora convert my_lora.safetensors --to peft --out pytorch_lora_weights.safetensors"})
public final class LoraConvertCommand implements Runnable {
    @Mixin
    EngineOptions engine = new EngineOptions();

    @Parameters(paramLabel = "FILE", description = "The LoRA to convert.")
    Path file;

    @Option(names = "--to", required = true, paramLabel = "kohya|peft", description = "The layout to write.")
    String to;

    @Option(names = "--out", required = true, paramLabel = "OUT", description = "The file to write.")
    Path out;

    @Option(names = "--dtype", paramLabel = "TYPE", description = "Save type (default: the input's).")
    String dtype;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        LoraConverter.Layout layout = switch (to.toLowerCase(Locale.ROOT)) {
            case "kohya" -> LoraConverter.Layout.KOHYA;
            case "peft", "diffusers" -> LoraConverter.Layout.PEFT;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--to must be kohya or peft, not '"
                    + to + "'");
        };
        LoraCommand.requireFile(file);
        try (Easel easel = engine.start(false)) {
            int n = new LoraConverter(easel.runtime(), new FormatModelIo(easel.registry()), LoraCommand.types(easel))
                    .convert(file, layout, out, dtype == null ? null : DType.parse(dtype));
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.printf(Locale.ROOT, "wrote %s: %d modules in %s layout%n", out, n, layout.name().toLowerCase(Locale.ROOT));
            stdout.flush();
        }
    }
}
