package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.core.train.optim.LrSchedule;
import dev.easel.core.train.optim.StepwiseLearningRate;
import org.junit.jupiter.api.Test;

/** Multipliers as diffusers' get_scheduler (used by kohya) gives them, and A1111's lr:step strings. */
class LrScheduleTest {
    private static final StepwiseLearningRate LR = StepwiseLearningRate.parse("1e-3");

    private static LrSchedule of(String name, long total, double warmup) {
        return new LrSchedule(name, total, warmup, 2, 2.0, LR);
    }

    @Test
    void diffusersSchedules() {
        assertEquals(1.0, of("constant", 100, 10).factor(0));
        assertEquals(0.5, of("constant_with_warmup", 100, 10).factor(5), 1e-12);
        assertEquals(1.0, of("constant_with_warmup", 100, 10).factor(10), 1e-12);
        LrSchedule linear = of("linear", 110, 10);
        assertEquals(0.0, linear.factor(0));
        assertEquals(0.5, linear.factor(5), 1e-12);
        assertEquals(1.0, linear.factor(10), 1e-12);
        assertEquals(0.5, linear.factor(60), 1e-12);
        assertEquals(0.0, linear.factor(110), 1e-12);
        LrSchedule cosine = of("cosine", 110, 10);
        assertEquals(1.0, cosine.factor(10), 1e-12);
        assertEquals(0.5, cosine.factor(60), 1e-12);
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 0.25)), cosine.factor(35), 1e-12);
        LrSchedule restarts = of("cosine_with_restarts", 110, 10);
        assertEquals(0.5, restarts.factor(35), 1e-12);
        assertEquals(1.0, restarts.factor(60), 1e-12, "second cycle restarts at full rate");
        assertEquals(0.0, restarts.factor(110), 1e-12);
        LrSchedule poly = of("polynomial", 110, 10);
        assertEquals(((1e-3 - 1e-7) * 0.25 + 1e-7) / 1e-3, poly.factor(60), 1e-12);
        assertEquals(1e-7 / 1e-3, poly.factor(111), 1e-12);
    }

    @Test
    void warmupBelowOneIsAFractionOfTheSteps() {
        assertEquals(10, of("cosine", 100, 0.1).warmupSteps());
        assertEquals(7, of("cosine", 100, 7).warmupSteps());
    }

    @Test
    void automatic1111ScheduleStrings() {
        StepwiseLearningRate s = StepwiseLearningRate.parse("0.005:100, 1e-3:1000, 1e-5");
        assertEquals(0.005, s.rate(0));
        assertEquals(0.005, s.rate(99));
        assertEquals(1e-3, s.rate(100));
        assertEquals(1e-3, s.rate(999));
        assertEquals(1e-5, s.rate(1000));
        assertEquals(Long.MAX_VALUE, s.endStep());
        assertEquals(20, StepwiseLearningRate.parse("0.01:10, 0.001:20").endStep(), "A1111 stops at the last step");
        assertEquals(Long.MAX_VALUE, StepwiseLearningRate.parse("0.01:10, 0.001:-1").endStep());
        assertTrue(StepwiseLearningRate.parse("2e-4").constant());
        LrSchedule scaled = new LrSchedule("constant", 2000, 0, 1, 1, s);
        assertEquals(1.0, scaled.factor(50));
        assertEquals(0.2, scaled.factor(500), 1e-12);
        assertEquals(0.002, scaled.factor(1500), 1e-12);
        for (String bad : new String[] {"abc", "0.1:20, 0.2:10", "0.1:x", "", "-1"}) {
            assertThrows(IllegalArgumentException.class, () -> StepwiseLearningRate.parse(bad), bad);
        }
    }
}
