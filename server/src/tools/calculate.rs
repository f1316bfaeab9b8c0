use mcpctl_server::prelude::*;
use serde::{Deserialize, Serialize};

use super::McpServer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    Add,
    Subtract,
    Multiply,
    Divide,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CalculateRequest {
    /// The arithmetic operation.
    pub operation: Operation,
    /// First operand.
    pub a: f64,
    /// Second operand.
    pub b: f64,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Calculation {
    pub operation: Operation,
    pub a: f64,
    pub b: f64,
    pub result: f64,
}

/// Errors are results the model can read and correct (`isError: true`), not protocol failures.
pub fn calculate(operation: Operation, a: f64, b: f64) -> Result<f64, String> {
    if !a.is_finite() || !b.is_finite() {
        return Err("operands must be finite numbers".into());
    }
    let result = match operation {
        Operation::Add => a + b,
        Operation::Subtract => a - b,
        Operation::Multiply => a * b,
        Operation::Divide if b == 0.0 => return Err("Division by zero".into()),
        Operation::Divide => a / b,
    };
    if result.is_finite() {
        Ok(result)
    } else {
        Err("result is out of range".into())
    }
}

#[tool_router(router = calculate_tools, vis = "pub(crate)")]
impl McpServer {
    #[tool(description = "Basic arithmetic: add, subtract, multiply or divide two numbers.")]
    pub async fn calculate(
        &self,
        Parameters(CalculateRequest { operation, a, b }): Parameters<CalculateRequest>,
    ) -> Result<Json<Calculation>, String> {
        calculate(operation, a, b).map(|result| {
            Json(Calculation {
                operation,
                a,
                b,
                result,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        assert_eq!(calculate(Operation::Add, 2.0, 3.0), Ok(5.0));
        assert_eq!(calculate(Operation::Subtract, 2.0, 3.0), Ok(-1.0));
        assert_eq!(calculate(Operation::Multiply, 2.5, 4.0), Ok(10.0));
        assert_eq!(calculate(Operation::Divide, 7.0, 2.0), Ok(3.5));
    }

    #[test]
    fn division_by_zero_and_overflow_are_errors() {
        assert!(calculate(Operation::Divide, 1.0, 0.0).is_err());
        assert!(calculate(Operation::Multiply, f64::MAX, 2.0).is_err());
    }
}
