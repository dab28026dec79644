export async function step(name: string): Promise<string> {
  return `did ${name}`;
}
