use mcpctl_server::prelude::*;
use serde::{Deserialize, Serialize};

use super::mock_data::stable_hash;
use super::McpServer;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct WeatherRequest {
    /// City name, e.g. "Kyiv".
    pub city: String,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Weather {
    pub city: String,
    // i32 rather than u32: JSON Schema validators (AJV in the TypeScript SDK) know the
    // "int32" format schemars emits for it, and warn about "uint32".
    pub temperature_c: i32,
    pub condition: String,
    pub humidity_percent: i32,
    pub wind_kph: i32,
}

const CONDITIONS: &[&str] = &[
    "sunny",
    "partly cloudy",
    "cloudy",
    "light rain",
    "rain",
    "thunderstorm",
    "snow",
    "fog",
];

/// Mock weather: the same city (any letter case) always gets the same report.
pub fn mock_weather(city: &str) -> Result<Weather, String> {
    let city = city.trim();
    if city.is_empty() {
        return Err("city must not be empty".into());
    }
    if city.chars().count() > 100 {
        return Err("city must be at most 100 characters".into());
    }
    let h = stable_hash(&city.to_lowercase());
    Ok(Weather {
        city: city.to_string(),
        temperature_c: (h % 46) as i32 - 10,
        condition: CONDITIONS[((h >> 8) % CONDITIONS.len() as u64) as usize].to_string(),
        humidity_percent: 20 + ((h >> 16) % 76) as i32,
        wind_kph: ((h >> 24) % 60) as i32,
    })
}

#[tool_router(router = weather_tools, vis = "pub(crate)")]
impl McpServer {
    #[tool(
        description = "Returns mock weather for a city: temperature, condition, humidity and wind."
    )]
    pub async fn get_weather(
        &self,
        Parameters(WeatherRequest { city }): Parameters<WeatherRequest>,
    ) -> Result<Json<Weather>, String> {
        mock_weather(&city).map(Json)
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct WeatherReportArgs {
    /// City to report on, e.g. "Lisbon".
    pub city: String,
}

#[prompt_router(router = "weather_prompts", vis = "pub(crate)")]
impl McpServer {
    /// Asks for a short weather report on a city, using the get_weather tool.
    #[prompt(name = "weather_report")]
    pub async fn weather_report(
        &self,
        Parameters(WeatherReportArgs { city }): Parameters<WeatherReportArgs>,
    ) -> Result<Vec<PromptMessage>, ErrorData> {
        let city = city.trim();
        if city.is_empty() {
            return Err(ErrorData::invalid_params("city must not be empty", None));
        }
        Ok(vec![PromptMessage::new_text(
            Role::User,
            format!(
                "Call the get_weather tool for {city}, then write a two-sentence weather report \
                 for {city}: temperature in °C, condition, and whether to take an umbrella."
            ),
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_city_same_weather_any_case() {
        let a = mock_weather("Kyiv").unwrap();
        let b = mock_weather("kyiv").unwrap();
        assert_eq!(a.temperature_c, b.temperature_c);
        assert_eq!(a.condition, b.condition);
        assert!((-10..=35).contains(&a.temperature_c));
    }

    #[test]
    fn different_cities_differ_somewhere() {
        let cities = ["Kyiv", "Lisbon", "Tokyo", "Nairobi", "Lima"];
        let temps: std::collections::BTreeSet<i32> = cities
            .iter()
            .map(|c| mock_weather(c).unwrap().temperature_c)
            .collect();
        assert!(temps.len() > 1);
    }

    #[test]
    fn empty_city_is_an_error() {
        assert!(mock_weather("  ").is_err());
    }
}
