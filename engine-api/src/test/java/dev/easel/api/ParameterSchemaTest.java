package dev.easel.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ParameterSchemaTest {
    private final ParameterSchema schema = ParameterSchema.of(
            ParameterSpec.floating("alpha", 0.5, 0.0, 1.0, "share of B"),
            ParameterSpec.integer("rank", 4, 1, 1024, "rank"),
            ParameterSpec.bool("rescale", true, "rescale"),
            ParameterSpec.choice("mode", "a", List.of("a", "b"), "mode"),
            ParameterSpec.text("name", null, "required name"),
            new ParameterSpec("weights", ParameterType.FLOAT_LIST, "", 0.0, 1.0, List.of(), false, "per block"));

    @Test
    void fillsDefaultsAndConvertsText() {
        ParameterValues v = schema.validate(Map.of("name", "x", "alpha", "0.25", "weights", "0.1, 0.2"));
        assertEquals(0.25, v.getDouble("alpha"));
        assertEquals(4, v.getInt("rank"));
        assertTrue(v.getBoolean("rescale"));
        assertEquals("a", v.getString("mode"));
        assertEquals(List.of(0.1, 0.2), v.getDoubles("weights"));
    }

    @Test
    void rejectsWhatDoesNotFitAndNamesTheParameter() {
        assertMessage(Map.of("name", "x", "alpah", "0.3"), "unknown parameter 'alpah'");
        assertMessage(Map.of("name", "x", "alpha", "1.5"), "'alpha' = 1.5 is outside its range [0.0, 1.0]");
        assertMessage(Map.of("name", "x", "alpha", "half"), "'alpha' must be a number, not 'half'");
        assertMessage(Map.of("name", "x", "rank", "2.5"), "'rank' must be a whole number");
        assertMessage(Map.of("name", "x", "rescale", "yes"), "'rescale' must be true or false");
        assertMessage(Map.of("name", "x", "mode", "c"), "'mode' must be one of [a, b]");
        assertMessage(Map.of(), "parameter 'name' is required");
        assertMessage(Map.of("name", "x", "weights", "0.1,2"), "'weights' = 2.0 is outside");
    }

    @Test
    void descriptorIdsAndVersionsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> PluginDescriptor.of("lora", "1.0.0", "no impl"));
        assertThrows(IllegalArgumentException.class, () -> PluginDescriptor.of("Lora/Kohya", "1.0.0", "upper"));
        assertEquals("lora", PluginDescriptor.of("lora/kohya", "1.2", "d").family());
        assertTrue(SemanticVersion.parse("1.0.0-rc1").compareTo(SemanticVersion.parse("1.0.0")) < 0);
        assertTrue(SemanticVersion.parse("1.10.0").compareTo(SemanticVersion.parse("1.9.3")) > 0);
    }

    private void assertMessage(Map<String, ?> raw, String expected) {
        InvalidParameterException e = assertThrows(InvalidParameterException.class, () -> schema.validate(raw));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
