import { readdirSync, readFileSync } from "node:fs";

export const fixturesDirectory = new URL("../fixtures/iso20022/", import.meta.url);

/** The 32 CBPR+ scenario samples (see test/fixtures/iso20022/SOURCE.md). */
export const sampleNames: string[] = readdirSync(fixturesDirectory)
  .filter((name) => name.endsWith(".xml"))
  .sort();

export function sample(name: string): string {
  return readFileSync(new URL(name, fixturesDirectory), "utf8");
}

export const pacs008Sample = "p_2_1_1__CBPR_p.2.1.1_pacs.008_AtoB.xml";
export const pacs009Sample = "p_2_2_1__CBPR_p.2.2.1_pacs.009_BtoC.xml";
/** The HVPS+ (market infrastructure) pacs.008: settles through a clearing system, which HVPS+ allows and CBPR+ does not. */
export const hvpsClearingSample = "c_29_1_1__HVPS_c.29.1.1_pacs.008_BtoC_MI.xml";

/** The HVPS+ clearing sample declared as CBPR+ (BizSvc swift.cbprplus.02): it then breaks the settlement-method rule. */
export function clearingDeclaredAsCbpr(): string {
  return sample(hvpsClearingSample).replace("<BizSvc>swift.iap.01</BizSvc>", "<BizSvc>swift.cbprplus.02</BizSvc>");
}
