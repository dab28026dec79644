/** Activities of the time-skipping tests; the tests pass mocks of the same names. */
export async function longRunning(): Promise<string> {
  return 'activity';
}

export async function notify(message: string): Promise<string> {
  return message;
}
