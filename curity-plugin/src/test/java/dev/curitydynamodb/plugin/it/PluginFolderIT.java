package dev.curitydynamodb.plugin.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The plugin folder holds exactly the jars listed in {@code plugin-folder.txt}: the plugin's own
 * and its runtime dependencies, never the SDK or slf4j (Curity provides both). A dependency change
 * shows up as a change of that file in review.
 */
@Order(51)
class PluginFolderIT {
    @Test
    void folder_holds_exactly_the_listed_jars_and_nothing_curity_provides() throws Exception {
        List<String> actual = new ArrayList<>();
        LoadedAsCurityLoadsItIT.folderJars()
                .forEach(p -> actual.add(p.getFileName().toString()));
        List<String> expected = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("plugin-folder.txt"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                expected.add(line.strip());
            }
        }
        assertEquals(expected, actual);
        for (String jar : actual) {
            assertEquals(
                    false,
                    jar.startsWith("identityserver.sdk") || jar.startsWith("slf4j"),
                    jar + " is provided by Curity");
        }
    }
}
