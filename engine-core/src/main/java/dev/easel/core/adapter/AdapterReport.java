package dev.easel.core.adapter;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code easel lora inspect} shows about an adapter file: per module its type, variant, rank, alpha and (with a
 * base checkpoint) target key, plus counts, the file's metadata, and every module no type recognised or no key
 * matched.
 *
 * @param file         the adapter file
 * @param modules      the recognised modules in file order
 * @param types        module count per type id
 * @param components   module count per network (text_encoder, text_encoder_2, unet)
 * @param ranks        module count per rank
 * @param alphas       module count per alpha ("none" when absent)
 * @param unrecognized module names no type recognised, with their key suffixes
 * @param unmatched    module names that match no key of the base checkpoint (empty without one)
 * @param metadata     the file's metadata
 */
public record AdapterReport(Path file, List<Module> modules, Map<String, Integer> types,
                            Map<String, Integer> components, Map<String, Integer> ranks, Map<String, Integer> alphas,
                            Map<String, List<String>> unrecognized, List<String> unmatched,
                            Map<String, String> metadata) {
    /**
     * One module.
     *
     * @param name         the name in the file
     * @param type         the chosen type id
     * @param variant      the sub-variant the type detected
     * @param rank         rank (0 where the variant has none)
     * @param alpha        stored alpha, or {@code null}
     * @param component    text_encoder, text_encoder_2 or unet
     * @param target       the checkpoint key it lands on, or {@code null} without a base checkpoint
     * @param alternatives other types that recognise the same keys
     */
    public record Module(String name, String type, String variant, int rank, Double alpha, String component,
                         String target, List<String> alternatives) {
    }

    /** The report of an open adapter file, resolving targets with {@code keyMap} when given. */
    public static AdapterReport of(AdapterFile file, AdapterKeyMap keyMap) {
        List<Module> modules = new ArrayList<>();
        Map<String, Integer> types = new TreeMap<>();
        Map<String, Integer> components = new TreeMap<>();
        Map<String, Integer> ranks = new TreeMap<>();
        Map<String, Integer> alphas = new TreeMap<>();
        List<String> unmatched = new ArrayList<>();
        for (LoadedModule m : file.modules().values()) {
            String component = component(m.name());
            String target = null;
            if (keyMap != null) {
                var t = keyMap.resolve(m.name());
                if (t.isPresent()) {
                    target = t.get().weightKey() + (t.get().sliced() ? " [part " + (t.get().part() + 1) + "/"
                            + t.get().parts() + "]" : "");
                } else {
                    unmatched.add(m.name());
                }
            }
            Double alpha = m.module().alpha();
            modules.add(new Module(m.name(), m.typeId(), m.module().variant(), m.module().rank(), alpha, component,
                    target, m.alternatives()));
            types.merge(m.typeId(), 1, Integer::sum);
            components.merge(component, 1, Integer::sum);
            ranks.merge(Integer.toString(m.module().rank()), 1, Integer::sum);
            alphas.merge(alpha == null ? "none" : formatAlpha(alpha), 1, Integer::sum);
        }
        return new AdapterReport(file.location(), modules, types, components, ranks, alphas, file.unrecognized(),
                unmatched, new TreeMap<>(file.metadata()));
    }

    static String formatAlpha(double a) {
        return a == Math.rint(a) && Math.abs(a) < 1e9 ? Long.toString((long) a) : Double.toString(a);
    }

    /** Which network a module name belongs to, from its prefix. */
    public static String component(String name) {
        String n = name.startsWith("base_model.model.") ? name.substring("base_model.model.".length()) : name;
        if (n.startsWith("lora_te2_") || n.startsWith("text_encoder_2.")) {
            return "text_encoder_2";
        }
        if (n.startsWith("lora_te") || n.startsWith("text_encoder.")) {
            return "text_encoder";
        }
        return "unet";
    }
}
