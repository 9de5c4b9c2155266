package dev.easel.core.adapter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code ss_*} and {@code modelspec.*} metadata kohya's scripts write (all values strings, Python spellings:
 * {@code "16.0"}, {@code "True"}), so A1111, ComfyUI and kohya's tools read an Easel file as one of theirs.
 */
public final class KohyaMetadata {
    private static final ObjectMapper JSON = new ObjectMapper();

    private KohyaMetadata() {
    }

    /** Which SD family an adapter is for. */
    public enum Base {
        SD1("sd_v1", "stable-diffusion-v1/lora", "512x512", "diffusers", false),
        SD2("sd_v2", "stable-diffusion-v2-512/lora", "512x512", "diffusers", true),
        SDXL("sdxl_base_v1-0", "stable-diffusion-xl-v1-base/lora", "1024x1024",
                "https://github.com/Stability-AI/generative-models", false);

        final String version;
        final String architecture;
        final String resolution;
        final String implementation;
        final boolean v2;

        Base(String version, String architecture, String resolution, String implementation, boolean v2) {
            this.version = version;
            this.architecture = architecture;
            this.resolution = resolution;
            this.implementation = implementation;
            this.v2 = v2;
        }

        /** The base an input file declares, else the one its names suggest. */
        public static Base of(Map<String, String> metadata, Iterable<String> moduleNames) {
            String v = metadata.getOrDefault("ss_base_model_version", "");
            if (v.startsWith("sdxl") || AdapterNames.looksSdxl(moduleNames, metadata)) {
                return SDXL;
            }
            if (v.startsWith("sd_v2") || "True".equals(metadata.get("ss_v2"))) {
                return SD2;
            }
            return SD1;
        }
    }

    /**
     * Metadata for a written kohya LoRA.
     *
     * @param title    modelspec.title and ss_output_name
     * @param comment  ss_training_comment, or {@code null}
     * @param extra    further keys (modelspec.merged_from, ...), added last
     */
    public static Map<String, String> of(List<LoraOutput> modules, Base base, String title, String comment,
                                         Map<String, String> extra) {
        Map<String, String> md = new LinkedHashMap<>();
        md.put("ss_network_module", "networks.lora");
        Integer linearRank = common(modules, false, true);
        Double linearAlpha = commonAlpha(modules, false);
        Integer convRank = common(modules, true, true);
        Double convAlpha = commonAlpha(modules, true);
        boolean anyLinear = modules.stream().anyMatch(m -> !m.convKernel());
        md.put("ss_network_dim", !anyLinear ? "None" : linearRank == null ? "Dynamic" : linearRank.toString());
        md.put("ss_network_alpha", !anyLinear ? "None" : linearAlpha == null ? "Dynamic" : pyFloat(linearAlpha));
        if (modules.stream().anyMatch(LoraOutput::convKernel)) {
            Map<String, String> args = new TreeMap<>();
            args.put("conv_dim", convRank == null ? "Dynamic" : convRank.toString());
            args.put("conv_alpha", convAlpha == null ? "Dynamic" : pyFloat(convAlpha));
            try {
                md.put("ss_network_args", JSON.writeValueAsString(args));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        md.put("ss_base_model_version", base.version);
        md.put("ss_v2", base.v2 ? "True" : "False");
        md.put("ss_output_name", title);
        if (comment != null) {
            md.put("ss_training_comment", comment);
        }
        md.put("modelspec.sai_model_spec", "1.0.1");
        md.put("modelspec.architecture", base.architecture);
        md.put("modelspec.implementation", base.implementation);
        md.put("modelspec.title", title);
        md.put("modelspec.resolution", base.resolution);
        md.put("modelspec.prediction_type", "epsilon");
        md.put("modelspec.date", LocalDateTime.now().truncatedTo(ChronoUnit.SECONDS)
                .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME));
        md.put("modelspec.implementation_version", "easel/" + dev.easel.core.BuildInfo.easelVersion());
        md.putAll(extra);
        return md;
    }

    private static Integer common(List<LoraOutput> modules, boolean conv, boolean rank) {
        Integer value = null;
        for (LoraOutput m : modules) {
            if (m.convKernel() != conv) {
                continue;
            }
            if (value == null) {
                value = m.rank();
            } else if (value != m.rank()) {
                return null;
            }
        }
        return value;
    }

    private static Double commonAlpha(List<LoraOutput> modules, boolean conv) {
        Double value = null;
        for (LoraOutput m : modules) {
            if (m.convKernel() != conv) {
                continue;
            }
            double a = (float) m.alpha();
            if (value == null) {
                value = a;
            } else if (value != a) {
                return null;
            }
        }
        return value;
    }

    /** Python's {@code str(float)} for the values LoRA metadata holds ({@code 16.0}, {@code 0.5}, {@code 1e-05}). */
    public static String pyFloat(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e16) {
            return (long) d + ".0";
        }
        if (Math.abs(d) >= 1e-4 && Math.abs(d) < 1e16) {
            return new BigDecimal(Double.toString(d)).toPlainString();
        }
        String s = String.format(java.util.Locale.ROOT, "%.16e", d);
        BigDecimal mantissa = new BigDecimal(s.substring(0, s.indexOf('e'))).stripTrailingZeros();
        int exp = Integer.parseInt(s.substring(s.indexOf('e') + 1));
        return mantissa.toPlainString() + "e" + (exp < 0 ? "-" : "+") + String.format("%02d", Math.abs(exp));
    }
}
