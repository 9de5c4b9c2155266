package dev.easel.core.adapter;

import ai.djl.ndarray.NDManager;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.DType;
import dev.easel.core.merge.ModelIo;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code easel lora convert}: a LoRA between kohya's layout ({@code lora_unet_…}, {@code lora_down}/{@code lora_up}, an
 * alpha per module, {@code ss_*} metadata; SDXL UNet names in ldm spelling) and PEFT/diffusers'
 * ({@code unet.…lora_A.weight}, no alpha, scale folded into the factors). The delta of every module is unchanged.
 * Only LoRA/LoCon modules have a PEFT form; others fail naming the module.
 */
public final class LoraConverter {
    /** The target layouts. */
    public enum Layout { KOHYA, PEFT }

    private final ComputeRuntime runtime;
    private final ModelIo io;
    private final List<AdapterType> types;

    public LoraConverter(ComputeRuntime runtime, ModelIo io, List<AdapterType> types) {
        this.runtime = runtime;
        this.io = io;
        this.types = List.copyOf(types);
    }

    /** Converts {@code input} and returns the number of modules written. */
    public int convert(Path input, Layout to, Path output, DType dtype) {
        try (AdapterFile file = AdapterFile.open(io.open(input), types, null);
             NDManager manager = runtime.newManager()) {
            LoraResizer.requireAllRecognised(file);
            if (file.modules().isEmpty()) {
                throw new AdapterException(input + ": no LoRA module found");
            }
            boolean sdxl = AdapterNames.looksSdxl(file.modules().keySet(), file.metadata());
            List<LoraOutput> outputs = new ArrayList<>();
            for (LoadedModule m : file.modules().values()) {
                ModuleDelta d;
                try (NDManager scope = manager.newSubManager()) {
                    d = ModuleDelta.of(file, m, scope);
                }
                if (d.full() != null) {
                    throw new AdapterException(input + ": module '" + m.name() + "' is a Tucker LoCon (lora_mid), "
                            + "which has no " + to.name().toLowerCase(java.util.Locale.ROOT) + " form");
                }
                String name = AdapterNames.toKohya(m.name(), sdxl);
                if (to == Layout.PEFT && AdapterNames.toPeft(name) == null) {
                    throw new AdapterException(input + ": module '" + m.name() + "' has no PEFT name");
                }
                outputs.add(new LoraOutput(name, d.up(), d.down(), d.scale() * d.rank(), d.in(), d.kernel()));
            }
            DType type = dtype != null ? dtype : LoraResizer.saveType(file);
            if (to == Layout.KOHYA) {
                Map<String, String> md = new LinkedHashMap<>();
                file.metadata().forEach((k, v) -> {
                    if (k.startsWith("ss_") || k.startsWith("modelspec.")) {
                        md.put(k, v);
                    }
                });
                md.putAll(KohyaMetadata.of(outputs, KohyaMetadata.Base.of(file.metadata(), file.modules().keySet()),
                        file.metadata().getOrDefault("modelspec.title", LoraResizer.title(output)), null, Map.of()));
                LoraWriter.write(io, output, LoraWriter.kohyaTensors(outputs), type, md, true, manager);
            } else {
                LoraWriter.write(io, output, LoraWriter.peftTensors(outputs, AdapterNames::toPeft), type,
                        Map.of("format", "pt"), false, manager);
            }
            return outputs.size();
        } catch (IOException e) {
            throw new UncheckedIOException(input + ": " + e.getMessage(), e);
        }
    }
}
