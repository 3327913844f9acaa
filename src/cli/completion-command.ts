import type { Command } from "commander";
import { InputError } from "../engine/errors.js";

// `eks-runbook completion bash|zsh`: a completion script generated from the program's own
// commands and options, so it never lists a flag that does not exist. zsh uses the same
// function through bashcompinit.

interface CommandWords {
  name: string;
  words: string[];
  subcommands: { name: string; words: string[] }[];
}

function optionWords(c: Command): string[] {
  return c.options.flatMap((o) => [o.short, o.long].filter((x): x is string => Boolean(x)));
}

function commandWords(program: Command): CommandWords[] {
  return program.commands.map((c) => ({
    name: c.name(),
    words: [...optionWords(c), "--help"],
    subcommands: c.commands.map((s) => ({ name: s.name(), words: [...optionWords(s), "--help"] })),
  }));
}

/** Options that take a value (their next word is not a command). */
function valueOptions(program: Command): string[] {
  const all = [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)];
  return [
    ...new Set(
      all.flatMap((c) =>
        c.options
          .filter((o) => o.required || o.optional)
          .flatMap((o) => [o.short, o.long].filter((x): x is string => Boolean(x))),
      ),
    ),
  ];
}

export function completionScript(shell: string, program: Command): string {
  if (shell !== "bash" && shell !== "zsh") {
    throw new InputError(
      `completion: unknown shell "${shell}"`,
      "Use `eks-runbook completion bash` or `eks-runbook completion zsh`.",
    );
  }
  const cmds = commandWords(program);
  const run = cmds.find((c) => c.name === "run");
  const top = [
    ...cmds.filter((c) => c.name !== "run").map((c) => c.name),
    ...(run?.words ?? []),
    "--version",
  ];
  const cases = cmds
    .filter((c) => c.name !== "run")
    .flatMap((c) =>
      c.subcommands.length
        ? [
            `    ${c.name}:) opts="${c.subcommands.map((x) => x.name).join(" ")}" ;;`,
            ...c.subcommands.map((x) => `    ${c.name}:${x.name}) opts="${x.words.join(" ")}" ;;`),
          ]
        : [`    ${c.name}:*) opts="${c.words.join(" ")}" ;;`],
    )
    .join("\n");
  const bash = `# eks-runbook ${shell} completion. Load it with: source <(eks-runbook completion ${shell})
_eks_runbook() {
  local cur prev cmd sub i w opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""; sub=""
  i=1
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w="\${COMP_WORDS[i]}"
    case " ${valueOptions(program).join(" ")} " in
      *" $w "*) i=$((i + 1)) ;;
      *) case "$w" in
           -*) ;;
           *) if [ -z "$cmd" ]; then cmd="$w"; elif [ -z "$sub" ]; then sub="$w"; fi ;;
         esac ;;
    esac
    i=$((i + 1))
  done
  case "$prev" in
    -t|--target) COMPREPLY=($(compgen -W "local aws" -- "$cur")); return 0 ;;
    -c|--config) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
    completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return 0 ;;
  esac
  case "$cmd:$sub" in
${cases}
    *) opts="${top.join(" ")}" ;;
  esac
  COMPREPLY=($(compgen -W "$opts" -- "$cur"))
}
complete -F _eks_runbook eks-runbook
`;
  return shell === "zsh"
    ? `#compdef eks-runbook\nautoload -U +X bashcompinit && bashcompinit\n${bash}`
    : bash;
}
