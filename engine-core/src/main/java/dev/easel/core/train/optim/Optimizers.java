package dev.easel.core.train.optim;

import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Builds the optimiser a config names, under kohya's {@code optimizer_type} names, with {@code optimizer_args}
 * ({@code weight_decay=0.01 betas=0.9,0.999 eps=1e-8 momentum=0.9}). 8-bit variants run as their fp32 originals:
 * the result is the same algorithm with more exact state.
 */
public final class Optimizers {
    /** Names accepted (lower case) and the algorithm each runs. */
    private static final Map<String, String> NAMES = Map.ofEntries(
            Map.entry("adamw", "AdamW"), Map.entry("adamw8bit", "AdamW"), Map.entry("pagedadamw8bit", "AdamW"),
            Map.entry("pagedadamw", "AdamW"), Map.entry("pagedadamw32bit", "AdamW"),
            Map.entry("lion", "Lion"), Map.entry("lion8bit", "Lion"), Map.entry("pagedlion8bit", "Lion"),
            Map.entry("sgdnesterov", "SGDNesterov"), Map.entry("sgdnesterov8bit", "SGDNesterov"),
            Map.entry("sgd", "SGD"), Map.entry("prodigy", "Prodigy"));

    private Optimizers() {
    }

    /**
     * Creates an optimiser.
     *
     * @param warnings receives one line per substitution (8-bit names)
     * @throws IllegalArgumentException naming the unknown name or argument
     */
    public static Optimizer create(String type, String args, NDManager manager, Consumer<String> warnings) {
        String key = type.trim().toLowerCase(Locale.ROOT);
        if (key.startsWith("bitsandbytes.optim.") || key.startsWith("torch.optim.")
                || key.startsWith("prodigyopt.")) {
            key = key.substring(key.lastIndexOf('.') + 1);
        }
        String algorithm = NAMES.get(key);
        if (algorithm == null) {
            throw new IllegalArgumentException("optimizer_type '" + type + "' is not supported; use one of AdamW,"
                    + " AdamW8bit, Lion, Lion8bit, SGDNesterov, SGDNesterov8bit, SGD, Prodigy");
        }
        if (!algorithm.equalsIgnoreCase(key)) {
            warnings.accept("optimizer_type '" + type + "' trains as " + algorithm + " with fp32 state");
        }
        Map<String, String> a = parseArgs(args);
        Optimizer opt = switch (algorithm) {
            case "AdamW" -> {
                double[] betas = pair(a.remove("betas"), 0.9, 0.999);
                yield new AdamW(manager, betas[0], betas[1], num(a.remove("eps"), 1e-8),
                        num(a.remove("weight_decay"), 0.01));
            }
            case "Lion" -> {
                double[] betas = pair(a.remove("betas"), 0.9, 0.99);
                yield new Lion(manager, betas[0], betas[1], num(a.remove("weight_decay"), 0));
            }
            case "Prodigy" -> {
                double[] betas = pair(a.remove("betas"), 0.9, 0.999);
                String beta3 = a.remove("beta3");
                yield new Prodigy(manager, betas[0], betas[1], beta3 == null ? null : num(beta3, 0),
                        num(a.remove("eps"), 1e-8), num(a.remove("weight_decay"), 0), bool(a.remove("decouple"), true),
                        bool(a.remove("use_bias_correction"), false), bool(a.remove("safeguard_warmup"), false),
                        num(a.remove("d0"), 1e-6), num(a.remove("d_coef"), 1), num(a.remove("growth_rate"),
                        Double.POSITIVE_INFINITY));
            }
            case "SGDNesterov" -> new Sgd(manager, num(a.remove("momentum"), 0.9), 0, true,
                    num(a.remove("weight_decay"), 0));
            default -> new Sgd(manager, num(a.remove("momentum"), 0), num(a.remove("dampening"), 0),
                    Boolean.parseBoolean(a.getOrDefault("nesterov", "false")) && a.remove("nesterov") != null,
                    num(a.remove("weight_decay"), 0));
        };
        a.remove("nesterov");
        if (!a.isEmpty()) {
            throw new IllegalArgumentException("optimizer_args " + a.keySet() + " are not options of " + algorithm);
        }
        return opt;
    }

    /** The optimiser a job config names, honouring kohya's old {@code use_lion_optimizer}/{@code use_8bit_adam}. */
    public static String configuredType(dev.easel.api.ParameterValues engine) {
        if (engine.getBoolean("use_lion_optimizer")) {
            return "Lion";
        }
        if (engine.getBoolean("use_8bit_adam")) {
            return "AdamW8bit";
        }
        return engine.getString("optimizer_type");
    }

    /** Splits {@code key=value} words (space-separated, as kohya passes them). */
    static Map<String, String> parseArgs(String args) {
        Map<String, String> out = new LinkedHashMap<>();
        if (args == null || args.isBlank()) {
            return out;
        }
        for (String word : args.trim().split("\\s+")) {
            int eq = word.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("optimizer_args entry '" + word + "' is not key=value");
            }
            out.put(word.substring(0, eq).trim().toLowerCase(Locale.ROOT), word.substring(eq + 1).trim());
        }
        return out;
    }

    private static double num(String value, double dflt) {
        if (value == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("optimizer_args value '" + value + "' is not a number");
        }
    }

    private static boolean bool(String value, boolean dflt) {
        if (value == null) {
            return dflt;
        }
        if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(value);
        }
        throw new IllegalArgumentException("optimizer_args value '" + value + "' is not true or false");
    }

    private static double[] pair(String value, double a, double b) {
        if (value == null) {
            return new double[] {a, b};
        }
        List<String> parts = List.of(value.replace("(", "").replace(")", "").replace("[", "").replace("]", "")
                .split(","));
        if (parts.size() != 2) {
            throw new IllegalArgumentException("optimizer_args betas must be two numbers, not '" + value + "'");
        }
        return new double[] {num(parts.get(0).trim(), a), num(parts.get(1).trim(), b)};
    }
}
