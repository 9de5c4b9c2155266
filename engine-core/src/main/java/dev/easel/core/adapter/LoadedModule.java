package dev.easel.core.adapter;

import dev.easel.api.ParameterValues;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import java.util.List;

/**
 * One module of an adapter file with the type chosen for it.
 *
 * @param name         the module name as the file spells it
 * @param type         the adapter type that computes its delta
 * @param module       what the type recognised, with the stored alpha filled in
 * @param parameters   the type's parameters for this module (PEFT's lora_alpha from the file's LoraConfig, ...)
 * @param alternatives ids of other installed types that also recognised it (same keys, other tool)
 */
public record LoadedModule(String name, AdapterType type, AdapterModule module, ParameterValues parameters,
                           List<String> alternatives) {
    public LoadedModule {
        alternatives = List.copyOf(alternatives);
    }

    /** The chosen type's id. */
    public String typeId() {
        return type.descriptor().id();
    }
}
