/** The governed exception the compliance tests put on the demo's CDI. */
import { appendFileSync } from 'node:fs';

export const CDI_EXCEPTION = {
  justification: 'CDI accueillant une unité de soins de jour',
  basis: "Code de l'énergie R241-29",
  approved_by: 'Conseil régional Grand Est, commission permanente',
  approved_on: '2025-12-05',
  reference: 'délibération CP-2025-12-117',
};

/** The demo rules plus the CDI at 20 °C occupied under a governed exception. */
export function rulesWithCdiException(rulesFile: string): void {
  appendFileSync(
    rulesFile,
    `
schools:
  "0670999X":
    zones:
      cdi:
        heating:
          occupied:
            mode: comfort
            setpoint_c: 20
            basis: "Code de l'énergie R241-29: accueil de soins de jour"
            exception:
${Object.entries(CDI_EXCEPTION)
  .map(([k, v]) => `              ${k}: ${JSON.stringify(v)}`)
  .join('\n')}
`,
  );
}
