import { Box, render, Text, useApp, useInput } from 'ink';
import { useState } from 'react';

/** One choice in the template picker. */
export interface TemplateChoice {
  /** The template's name, as `--template` takes it. */
  name: string;
  /** One line on what the template shows. */
  summary: string;
}

/** Props of TemplateSelect. */
export interface TemplateSelectProps {
  /** The templates to choose from, in display order. */
  choices: readonly TemplateChoice[];
  /** Called once with the chosen name, or undefined when the user pressed Escape. */
  onDone: (name: string | undefined) => void;
}

/** A list of templates: arrow keys move, Enter picks, Escape keeps the default. */
export function TemplateSelect({ choices, onDone }: TemplateSelectProps) {
  const [index, setIndex] = useState(0);
  const { exit } = useApp();
  useInput((input, key) => {
    if (key.upArrow || input === 'k') setIndex((i) => (i + choices.length - 1) % choices.length);
    else if (key.downArrow || input === 'j') setIndex((i) => (i + 1) % choices.length);
    else if (key.return) {
      onDone(choices[index]?.name);
      exit();
    } else if (key.escape) {
      onDone(undefined);
      exit();
    }
  });
  return (
    <Box flexDirection="column">
      <Text bold>Which template? (↑/↓, Enter)</Text>
      {choices.map((choice, i) => (
        <Text key={choice.name} color={i === index ? 'cyan' : undefined}>
          {i === index ? '❯ ' : '  '}
          {choice.name.padEnd(16)}
          <Text dimColor>{choice.summary}</Text>
        </Text>
      ))}
    </Box>
  );
}

/** Asks for a template in the terminal. Resolves undefined if the user leaves it to the default. */
export async function selectTemplate(choices: readonly TemplateChoice[]): Promise<string | undefined> {
  let chosen: string | undefined;
  const instance = render(
    <TemplateSelect
      choices={choices}
      onDone={(name) => {
        chosen = name;
      }}
    />,
  );
  await instance.waitUntilExit();
  return chosen;
}
